"""The finance report's page: the header's key figures, the sections, and plotly.js inlined
once, so the single HTML file opens in a browser with no network."""

from __future__ import annotations

import html
from pathlib import Path

import duckdb
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from dagster_project.lib.report import queries
from dagster_project.lib.report.catalogue import Chart
from dagster_project.lib.report.context import Context, add_months, day
from dagster_project.lib.report.tables import section, slug, unavailable

# Figures carry only data and layout; the page's CSS does the rest.
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def chart_html(chart: Chart, figure: go.Figure | None, reason: str | None = None) -> str:
    """The chart's section; without a figure, a note of why (`reason`, or no rows)."""
    if figure is None:
        marts = " and ".join(f"marts.{m}" for m in chart.marts)
        body = unavailable(reason or f"{marts} has no rows for it")
    else:
        body = pio.to_html(
            figure,
            full_html=False,
            include_plotlyjs=False,
            div_id=f"figure-{slug(chart.title)}",
            config=PLOTLY_CONFIG,
            default_height="460px",
        )
    return section("chart", chart.title, chart.description, body)


def key_figures(con: duckdb.DuckDBPyConnection, ctx: Context) -> list[tuple[str, str, str]]:
    """(label, value, footnote) of the header's key figures."""
    figures = [("Data as of", day(ctx.as_of), ctx.as_of_source)]
    month = ctx.latest_month
    if month is None:
        return figures + [("MRR", "n/a", "marts.fct_mrr_monthly has no rows yet")]
    mrr, arr, customers, net_new = queries.month_totals(con, month)
    return figures + [
        ("MRR", ctx.money(mrr), f"on {day(month)}"),
        ("ARR", ctx.money(arr), "12 × MRR"),
        ("Paying customers", f"{customers:,}", f"with MRR on {day(month)}"),
        (
            f"Net new MRR, {month:%b %Y}",
            ("+" if (net_new or 0) > 0 else "") + ctx.money(net_new),
            f"MRR on {day(month)} vs {day(add_months(month, -1))}",
        ),
    ]


def render(
    warehouse: Path, ctx: Context, figures: list[tuple[str, str, str]], sections: list[str]
) -> str:
    """The whole HTML page: header with the key figures, the sections, plotly.js inlined."""
    cards = "".join(
        f'<div class="figure"><div class="label">{html.escape(label)}</div>'
        f'<div class="value">{html.escape(value)}</div>'
        f'<div class="note">{html.escape(note)}</div></div>'
        for label, value, note in figures
    )
    as_of = day(ctx.as_of)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Revenue report as of {html.escape(as_of)}</title>
<style>{_CSS}</style>
<script>{get_plotlyjs()}</script>
</head>
<body>
<header>
<h1>Revenue report</h1>
<p class="subtitle">Subscription revenue as of {html.escape(as_of)}, from
{html.escape(warehouse.name)}. Money in {html.escape(ctx.currency)}.</p>
<div class="figures">{cards}</div>
</header>
<main>
{"".join(sections)}
</main>
<footer>Built by recurwise from the marts of {html.escape(warehouse.name)}. MRR counts the
subscription items active on a month's first day; a movement compares a month with the one
before.</footer>
</body>
</html>
"""


_CSS = """
body { margin: 0; background: #f5f6f8; color: #1d2433;
  font-family: Inter, "Segoe UI", Helvetica, Arial, sans-serif; }
header { background: #14213d; color: #fff; padding: 24px 40px 28px; }
h1 { margin: 0 0 4px; font-size: 26px; font-weight: 600; }
header .subtitle { margin: 0 0 20px; color: #c9d1e3; }
.figures { display: flex; flex-wrap: wrap; gap: 16px; }
.figure { background: rgba(255, 255, 255, 0.08); border-radius: 8px; padding: 12px 18px;
  min-width: 170px; }
.figure .label { font-size: 13px; color: #c9d1e3; }
.figure .value { font-size: 26px; font-weight: 600; margin: 2px 0; }
.figure .note { font-size: 12px; color: #9aa6c1; }
main { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); align-items: start;
  gap: 24px; padding: 24px 40px; }
@media (max-width: 1100px) { main { grid-template-columns: minmax(0, 1fr); } }
section.chart { background: #fff; border-radius: 8px; padding: 18px 20px 8px;
  box-shadow: 0 1px 3px rgba(20, 33, 61, 0.12); min-width: 0; }
section.chart h2 { margin: 0 0 4px; font-size: 18px; font-weight: 600; }
section.chart .description { margin: 0 0 8px; color: #5c667a; font-size: 13px; }
section.chart .unavailable { margin: 24px 0; padding: 16px; background: #fff7e6;
  border: 1px solid #f4d58d; border-radius: 6px; color: #7a5b00; }
section.table table { width: 100%; border-collapse: collapse; font-size: 13px;
  margin: 8px 0 14px; }
section.table th { text-align: left; color: #5c667a; font-weight: 600;
  border-bottom: 1px solid #dee2e6; padding: 6px 8px; }
section.table td { border-bottom: 1px solid #f1f3f5; padding: 6px 8px; }
section.table .empty { margin: 16px 0; color: #5c667a; }
footer { padding: 0 40px 32px; color: #5c667a; font-size: 12px; }
"""
