"""The finance report's tables and the HTML of its sections. Every text from the
warehouse (CRM values, reasons) goes through html.escape here, never into markup as is."""

from __future__ import annotations

import html
from typing import Any

from dagster_project.lib.report.context import Context, day

LEAD_TIMES = ((0, "0-6 days"), (7, "7-13 days"), (14, "14-29 days"), (30, "30-59 days"),
              (60, "60-89 days"), (90, "90+ days"))  # fmt: skip
FORECAST_METHODS = {
    "commit": "Commit",
    "best_case": "Best case",
    "pipeline": "Pipeline",
    "weighted_pipeline": "Weighted pipeline",
}
COUNT_METRICS = ("new_logo_count",)
UNAVAILABLE = "Not available in this warehouse"

Cells = tuple[list[str], list[list[str]]]  # the header, the rows: text, not yet escaped


def slug(title: str) -> str:
    """A section's HTML id: its title in lowercase letters, digits and dashes."""
    return "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")


def section(kind: str, title: str, description: str, body: str) -> str:
    """A chart's or a table's section (kind "chart" or "table"): title, description, body."""
    classes = "chart" if kind == "chart" else f"chart {kind}"
    return (
        f'<section class="{classes}" id="{slug(title)}" data-{kind}="{html.escape(title)}">'
        f"<h2>{html.escape(title)}</h2>"
        f'<p class="description">{html.escape(description)}</p>{body}</section>'
    )


def unavailable(reason: str) -> str:
    """The note in place of a chart or table that has nothing to draw, or failed."""
    return f'<p class="unavailable">{UNAVAILABLE}: {html.escape(reason)}.</p>'


def table_html(title: str, description: str, empty: str, cells: Cells | None) -> str:
    """A table's section; `cells` None: the note `empty` says why there is nothing to show."""
    if cells is None:
        body = f'<p class="empty">Nothing to show: {html.escape(empty)}.</p>'
    else:
        header, rows = cells
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        lines = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
        )
        body = f"<table><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"
    return section("table", title, description, body)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}%"


def _figure(ctx: Context, metric: str, value: Any) -> str:
    """A month-close figure: a count as a number, the rest as money."""
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if metric in COUNT_METRICS else ctx.money(float(value))


def forecast_accuracy_cells(found: list[tuple], ctx: Context) -> Cells:
    """Mean absolute percentage error of each method by lead time, over closed months."""
    errors = {(lead, method): (error, n) for lead, method, error, n in found}
    header = ["Days before the month's end", *FORECAST_METHODS.values(), "Forecasts"]
    rows = []
    for lead, lead_label in LEAD_TIMES:
        cells = [errors.get((lead, m)) for m in FORECAST_METHODS]
        if any(cells):
            counted = max(c[1] for c in cells if c)
            rows.append(
                [lead_label, *(_percent(c[0]) if c else "n/a" for c in cells), f"{counted:,}"]
            )
    return header, rows


def month_close_cells(found: list[tuple], ctx: Context) -> Cells:
    """The latest closed month's figures, and every earlier figure that was restated."""
    header = ["Month", "Figure", "Reported", "Restated", "Difference", "Frozen as of"]
    rows = [
        [
            f"{month:%b %Y}",
            metric.replace("_", " "),
            _figure(ctx, metric, reported),
            _figure(ctx, metric, restated),
            _figure(ctx, metric, difference) if difference else "",
            day(frozen),
        ]
        for month, metric, reported, restated, difference, frozen in found
    ]
    return header, rows


def restatement_cells(found: list[tuple], ctx: Context) -> Cells:
    """The records behind the restated figures, largest differences first."""
    header = ["Month", "Figure", "Record", "Difference", "Why"]
    rows = [
        [
            f"{month:%b %Y}",
            metric.replace("_", " "),
            f"{record_type.replace('_', ' ')} {record_id}",
            _figure(ctx, metric, difference),
            reason,
        ]
        for month, metric, record_type, record_id, difference, reason in found
    ]
    return header, rows
