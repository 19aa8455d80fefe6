"""The finance report: one self-contained HTML file of charts over a published warehouse.

It reads only the public marts (SPEC 5) of a warehouse opened read-only, and inlines
plotly.js once, so the file opens in a browser with no network. A chart whose mart (or
column) this warehouse does not have yet says so in place of the chart instead of failing
the whole report. Plain Python, no Dagster import.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from dagster_project.lib.outputs import (
    OutputPathError,
    check_output_path,
    describe_os_error,
    landing_folders,
    write_atomically,
)

MOVEMENT_COLORS = {
    "new": "#1b7f3b",
    "expansion": "#6cc08b",
    "reactivation": "#2a9d8f",
    "contraction": "#f4a261",
    "churn": "#d1495b",
}
GROWTH_MOVEMENTS = ("new", "expansion", "reactivation")
LOSS_MOVEMENTS = ("contraction", "churn")
RENEWAL_STATUS_COLORS = {
    "renewed": "#1b7f3b",
    "in progress": "#3a86ff",
    "no renewal opportunity": "#f4a261",
    "churned": "#d1495b",
}
SCENARIOS = {  # scenario -> legend label, colour, line dash
    "committed": ("Committed only", "#6c757d", "dash"),
    "commit": ("Commit", "#1b7f3b", "solid"),
    "best_case": ("Best case", "#3a86ff", "solid"),
    "weighted_pipeline": ("Weighted pipeline", "#8e44ad", "solid"),
    "expected_renewals": ("Committed + expected renewals", "#e76f51", "solid"),
}
# The bridge detail's parts for customers that had MRR the month before and still have it.
BRIDGE_PARTS = {  # column -> legend label, colour
    "new_product": ("Cross-sell (new products)", "#1b7f3b"),
    "quantity": ("Quantity", "#6cc08b"),
    "price": ("Price", "#3a86ff"),
    "removed_product": ("Products removed", "#d1495b"),
}
RETENTION_LINES = {  # fct_retention_ttm column -> legend label, colour, dash
    "nrr": ("Net revenue retention (NRR)", "#1b7f3b", "solid"),
    "grr": ("Gross revenue retention (GRR)", "#3a86ff", "solid"),
    "logo_retention": ("Logo retention", "#6c757d", "dot"),
}
QUEUE_AGE_BUCKETS = (
    ("0–7 days", 0, 7),
    ("8–30 days", 8, 30),
    ("31–60 days", 31, 60),
    ("61–90 days", 61, 90),
    ("over 90 days", 91, None),
)
# Waiting potential subscriptions are the ones customer success acts on.
QUEUE_STATUS_COLORS = {"in_queue": "#f4a261", "activated": "#3a86ff"}
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
# Figures carry only data and layout; the page's CSS does the rest.
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


class ReportError(ValueError):
    """The report could not be written; the message says why, in words a person can act on."""


@dataclass(frozen=True)
class Context:
    """What every chart needs to know besides its own mart."""

    as_of: date
    as_of_source: str  # where as_of comes from, in words
    latest_month: date | None  # the as-of month of the MRR marts (MRR on its first day)
    currency: str
    columns: dict[str, set[str]]  # mart -> its columns

    @property
    def symbol(self) -> str:
        return CURRENCY_SYMBOLS.get(self.currency, self.currency + " ")

    def money(self, value: float | None) -> str:
        if value is None:
            return "n/a"
        sign = "−" if value < 0 else ""
        return f"{sign}{self.symbol}{abs(value):,.0f}"

    def compact_money(self, value: float) -> str:
        """$1.2M, $600k: for axis ticks."""
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= size:
                return f"{self.symbol}{value / size:,.2f}".rstrip("0").rstrip(".") + suffix
        return f"{self.symbol}{value:,.0f}"

    def hover_money(self, axis: str = "y") -> str:
        # d3's "$" format puts the minus first (−$4,439); other symbols go as a prefix.
        if self.symbol == "$":
            return f"%{{{axis}:$,.0f}}"
        return f"{self.symbol}%{{{axis}:,.0f}}"

    @property
    def money_axis(self) -> dict:
        if self.symbol == "$":
            return {"tickformat": "$,.0f"}
        return {"tickprefix": self.symbol, "tickformat": ",.0f"}


@dataclass(frozen=True)
class Chart:
    """One chart: its title, what it shows, the mart columns it reads, how to draw it."""

    title: str
    description: str
    needs: dict[str, tuple[str, ...]]  # mart -> columns read
    draw: Callable[[duckdb.DuckDBPyConnection, Context], go.Figure | None]  # None: no rows

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-")


def report_path(warehouse: Path) -> Path:
    """The finance report beside the warehouse: warehouse.duckdb -> warehouse.report.html."""
    return warehouse.with_name(warehouse.stem + ".report.html")


def write_report(warehouse: Path, out: Path, *, warnings: list[str] | None = None) -> list[str]:
    """Write the finance report of `warehouse` to `out`; return the titles of the charts drawn.

    The as-of date and the currency of the labels are the warehouse's own (marts.build_info),
    whoever built it and with which settings. A chart that cannot be drawn gets a note in
    its place and a line in `warnings`: the report is still written (SPEC 6).
    """
    warehouse, out = Path(warehouse), Path(out)
    if not warehouse.is_file():
        raise ReportError(f"warehouse {warehouse} does not exist; run recurwise demo first")
    if not out.parent.is_dir():
        raise ReportError(f"folder {out.parent} for the report does not exist")
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        raise ReportError(f"cannot open {warehouse} as a DuckDB warehouse: {exc}") from None
    with con:
        try:
            check_output_path(out, warehouse, landing_folders(con))
        except OutputPathError as exc:
            raise ReportError(str(exc)) from None
        columns = _mart_columns(con)
        if "build_info" not in columns:
            raise ReportError(
                f"{warehouse} has no marts.build_info (it was built by an older recurwise): "
                "build it again with recurwise build"
            )
        as_of, last_snapshot, currency = con.execute(
            "select as_of_date, last_snapshot_date, corporate_currency from marts.build_info"
        ).fetchone()
        ctx = Context(
            as_of=as_of,
            as_of_source=(
                "the latest CRM snapshot"
                if as_of == last_snapshot
                else f"the build's as-of date (CRM snapshot of {_day(last_snapshot)})"
            ),
            latest_month=_latest_month(con, columns),
            currency=currency,
            columns=columns,
        )
        sections, drawn = [], []
        for chart in CHARTS:
            missing = _missing(chart, columns)
            figure = None
            if not missing:
                try:
                    figure = chart.draw(con, ctx)
                except (duckdb.Error, ArithmeticError, TypeError, ValueError) as exc:
                    missing = f"it could not be drawn ({type(exc).__name__}: {exc})"
                    if warnings is not None:
                        warnings.append(f"finance report: chart {chart.title!r} {missing}")
            if figure is not None:
                drawn.append(chart.title)
            sections.append(_section(chart, figure, missing))
        for table in TABLES:
            missing = _missing(table, columns)
            content = None
            if not missing:
                try:
                    content = table.rows(con, ctx)
                except (duckdb.Error, ArithmeticError, TypeError, ValueError) as exc:
                    missing = f"it could not be filled ({type(exc).__name__}: {exc})"
                    if warnings is not None:
                        warnings.append(f"finance report: table {table.title!r} {missing}")
            sections.append(_table_section(table, content, missing))
        page = _page(warehouse, ctx, _key_figures(con, ctx), sections)
    try:
        write_atomically(out, lambda partial: partial.write_text(page, encoding="utf-8"))
    except OSError as exc:
        raise ReportError(f"cannot write {out}: {describe_os_error(exc)}") from None
    return drawn


# --- reading the warehouse -------------------------------------------------------------


def _mart_columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    rows = con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts'"
    ).fetchall()
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table, set()).add(column)
    return columns


def _missing(chart: Chart | Table, columns: dict[str, set[str]]) -> str | None:
    """Why this warehouse cannot draw the chart, or None when it can."""
    for mart, needed in chart.needs.items():
        if mart not in columns:
            return f"it has no table marts.{mart}"
        absent = [c for c in needed if c not in columns[mart]]
        if absent:
            return f"marts.{mart} has no column {', '.join(absent)}"
    return None


def _latest_month(con: duckdb.DuckDBPyConnection, columns: dict[str, set[str]]) -> date | None:
    if "fct_mrr_monthly" not in columns:
        return None
    return con.execute("select max(month) from marts.fct_mrr_monthly").fetchone()[0]


def _key_figures(con: duckdb.DuckDBPyConnection, ctx: Context) -> list[tuple[str, str, str]]:
    """(label, value, footnote) of the header's key figures."""
    figures = [("Data as of", _day(ctx.as_of), ctx.as_of_source)]
    if "fct_mrr_monthly" not in ctx.columns or ctx.latest_month is None:
        return figures + [("MRR", "n/a", "marts.fct_mrr_monthly is not in this warehouse")]
    mrr, arr, customers, net_new = con.execute(
        "select sum(mrr)::double, sum(arr)::double, count(*) filter (where mrr > 0), "
        "sum(mrr_change)::double from marts.fct_mrr_monthly where month = ?",
        [ctx.latest_month],
    ).fetchone()
    month = ctx.latest_month
    previous = _add_months(month, -1)
    return figures + [
        ("MRR", ctx.money(mrr), f"on {_day(month)}"),
        ("ARR", ctx.money(arr), "12 × MRR"),
        ("Paying customers", f"{customers:,}", f"with MRR on {_day(month)}"),
        (
            f"Net new MRR, {month:%b %Y}",
            ("+" if (net_new or 0) > 0 else "") + ctx.money(net_new),
            f"MRR on {_day(month)} vs {_day(previous)}",
        ),
    ]


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _nice_step(raw: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^n at least `raw`: a step for readable axis ticks."""
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def _add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _last_months(ctx: Context, count: int = 12) -> tuple[date, date]:
    """First and last month of the `count` months ending with the as-of month."""
    end = ctx.latest_month or ctx.as_of.replace(day=1)
    return _add_months(end, 1 - count), end


# --- the charts ------------------------------------------------------------------------


def _base_layout(fig: go.Figure, ctx: Context, *, y_title: str, money: bool = True) -> None:
    fig.update_layout(
        template="plotly_white",
        height=460,
        margin={"l": 80, "r": 30, "t": 40, "b": 110},
        legend={
            "orientation": "h",
            "yanchor": "top",
            "y": -0.28,
            "x": 0,
            "traceorder": "normal",
        },
        hovermode="x unified",
        font={"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 13},
    )
    fig.update_yaxes(title_text=y_title, rangemode="tozero")
    if money:
        fig.update_yaxes(**ctx.money_axis)


def _draw_mrr_arr(con: duckdb.DuckDBPyConnection, ctx: Context) -> go.Figure | None:
    rows = con.execute(
        "select month, sum(mrr)::double, sum(arr)::double, count(*) filter (where mrr > 0) "
        "from marts.fct_mrr_monthly group by month order by month"
    ).fetchall()
    if not rows:
        return None
    months, mrr, arr, customers = (list(c) for c in zip(*rows, strict=True))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=months,
            y=mrr,
            name="MRR (left axis)",
            mode="lines",
            fill="tozeroy",
            line={"color": "#3a86ff", "width": 2},
            fillcolor="rgba(58, 134, 255, 0.15)",
            customdata=customers,
            hovertemplate=f"MRR {ctx.hover_money()}<br>%{{customdata:,}} paying customers"
            "<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=months,
            y=arr,
            name="ARR (right axis)",
            mode="lines",
            yaxis="y2",
            line={"color": "#14213d", "width": 2, "dash": "dot"},
            hovertemplate=f"ARR {ctx.hover_money()}<extra></extra>",
        )
    )
    _base_layout(fig, ctx, y_title="MRR")
    # ARR is 12 × MRR (the mart's definition): the right axis is the left one times twelve,
    # tick for tick, so ARR's line traces MRR's area and either axis reads off the curve.
    step = _nice_step(max(max(mrr), 1.0) * 1.05 / 7)
    ticks = [step * i for i in range(int(max(max(mrr), 1.0) * 1.05 // step) + 2)]
    fig.update_layout(
        yaxis={
            "range": [0, ticks[-1]],
            "tickvals": ticks,
            "ticktext": [ctx.money(tick) for tick in ticks],
        },
        yaxis2={
            "title": {"text": "ARR"},
            "overlaying": "y",
            "side": "right",
            "range": [0, ticks[-1] * 12],
            "tickvals": [tick * 12 for tick in ticks],
            "ticktext": [ctx.compact_money(tick * 12) for tick in ticks],
            "showgrid": False,
        },
        margin={"r": 90},
    )
    fig.update_xaxes(title_text="Month (MRR on the month's first day)", dtick="M3")
    return fig


def _movement_rows(
    con: duckdb.DuckDBPyConnection, ctx: Context
) -> list[tuple[date, str, float, int, float, float]]:
    window = _last_months(ctx)
    return con.execute(
        "select month, movement, mrr_change::double, accounts, "
        "month_starting_mrr::double, month_ending_mrr::double "
        "from marts.fct_mrr_movements where month between ? and ? order by month, movement",
        list(window),
    ).fetchall()


def _draw_mrr_bridge(con: duckdb.DuckDBPyConnection, ctx: Context) -> go.Figure | None:
    rows = _movement_rows(con, ctx)
    if not rows:
        return None
    first_month, last_month = rows[0][0], rows[-1][0]
    # A customer base in its first year has no MRR before the window: it starts at 0.
    starting = next(r[4] for r in rows if r[0] == first_month) or 0.0
    ending = next(r[5] for r in rows if r[0] == last_month) or 0.0
    totals = {m: 0.0 for m in (*GROWTH_MOVEMENTS, *LOSS_MOVEMENTS)}
    for _, movement, change, *_ in rows:
        if movement in totals:
            totals[movement] += change
    start_label = f"MRR {_day(_add_months(first_month, -1))}"
    end_label = f"MRR {_day(last_month)}"
    labels = [start_label, *(m.capitalize() for m in totals), end_label]
    values = [starting, *totals.values(), ending]
    fig = go.Figure(
        go.Waterfall(
            x=labels,
            y=values,
            measure=["absolute", *["relative"] * len(totals), "total"],
            text=[ctx.money(v) for v in values],
            textposition="outside",
            cliponaxis=False,
            connector={"line": {"color": "#adb5bd", "width": 1}},
            increasing={"marker": {"color": MOVEMENT_COLORS["new"]}},
            decreasing={"marker": {"color": MOVEMENT_COLORS["churn"]}},
            totals={"marker": {"color": "#3a86ff"}},
            hovertemplate=f"%{{x}}: {ctx.hover_money()}<extra></extra>",
            name="MRR bridge",
        )
    )
    _base_layout(fig, ctx, y_title="MRR")
    fig.update_layout(showlegend=False, hovermode="closest")
    running, peak = starting, max(starting, ending)
    for change in totals.values():
        running += change
        peak = max(peak, running)
    fig.update_yaxes(range=[0, peak * 1.15])
    return fig


def _draw_movements_by_month(con: duckdb.DuckDBPyConnection, ctx: Context) -> go.Figure | None:
    rows = _movement_rows(con, ctx)
    if not rows:
        return None
    months = sorted({r[0] for r in rows})
    by_key = {(r[0], r[1]): (r[2], r[3]) for r in rows}
    fig = go.Figure()
    for movement in (*GROWTH_MOVEMENTS, *LOSS_MOVEMENTS):
        values = [by_key.get((m, movement), (0.0, 0)) for m in months]
        fig.add_trace(
            go.Bar(
                x=months,
                y=[v[0] for v in values],
                customdata=[v[1] for v in values],
                name=movement.capitalize(),
                marker_color=MOVEMENT_COLORS[movement],
                hovertemplate=f"{movement.capitalize()} {ctx.hover_money()} "
                "(%{customdata} customers)<extra></extra>",
            )
        )
    net_new = [sum(by_key.get((m, mv), (0.0, 0))[0] for mv in MOVEMENT_COLORS) for m in months]
    fig.add_trace(
        go.Scatter(
            x=months,
            y=net_new,
            name="Net new MRR",
            mode="lines+markers",
            line={"color": "#14213d", "width": 2},
            hovertemplate=f"Net new {ctx.hover_money()}<extra></extra>",
        )
    )
    _mrr_change_by_month_layout(fig, ctx)
    return fig


def _mrr_change_by_month_layout(fig: go.Figure, ctx: Context) -> None:
    """Stacked MRR changes per month (positive up, negative down, zero line drawn)."""
    _base_layout(fig, ctx, y_title="MRR change")
    fig.update_layout(barmode="relative")
    fig.update_yaxes(rangemode="normal", zeroline=True, zerolinecolor="#6c757d")
    fig.update_xaxes(title_text="Month", dtick="M1", tickformat="%b %Y")


def _draw_forecast(con: duckdb.DuckDBPyConnection, ctx: Context) -> go.Figure | None:
    rows = con.execute(
        "select month, scenario, committed_mrr::double, pipeline_mrr::double, "
        "at_risk_mrr::double, forecast_mrr::double "
        "from marts.fct_mrr_forecast_monthly order by month"
    ).fetchall()
    if not rows:
        return None
    known = list(SCENARIOS)
    scenarios = sorted(
        {r[1] for r in rows}, key=lambda s: (known.index(s) if s in known else len(known), s)
    )
    fig = go.Figure()
    for scenario in scenarios:
        label, color, dash = SCENARIOS.get(scenario, (_label(scenario), None, "solid"))
        points = [r for r in rows if r[1] == scenario]
        fig.add_trace(
            go.Scatter(
                x=[r[0] for r in points],
                y=[r[5] for r in points],
                customdata=[[r[2], r[3], r[4]] for r in points],
                name=label,
                mode="lines",
                line={"width": 2.5, "color": color, "dash": dash},
                hovertemplate=f"{label}: {ctx.hover_money()} (committed "
                f"{ctx.symbol}%{{customdata[0]:,.0f}} + pipeline "
                f"{ctx.symbol}%{{customdata[1]:,.0f}} − at risk "
                f"{ctx.symbol}%{{customdata[2]:,.0f}})<extra></extra>",
            )
        )
    _base_layout(fig, ctx, y_title="MRR")
    if ctx.latest_month is not None:
        # Months before the as-of month are actuals; the scenarios part from it on.
        fig.add_shape(
            type="line",
            x0=ctx.latest_month,
            x1=ctx.latest_month,
            y0=0,
            y1=1,
            yref="paper",
            line={"color": "#6c757d", "width": 1, "dash": "dot"},
        )
        fig.add_annotation(
            x=ctx.latest_month,
            y=1,
            yref="paper",
            text=f"← actuals · as of {ctx.latest_month:%b %Y} · forecast →",
            showarrow=False,
            yanchor="bottom",
            font={"size": 12, "color": "#5c667a"},
        )
    fig.update_xaxes(title_text="Month (MRR on the month's first day)", dtick="M3")
    return fig


def _draw_opening_closing(con: duckdb.DuckDBPyConnection, ctx: Context) -> go.Figure | None:
    rows = con.execute(
        "select month, sum(opening_mrr)::double, sum(closing_mrr)::double "
        "from marts.fct_mrr_monthly group by month order by month"
    ).fetchall()
    if not rows:
        return None
    months, opening, closing = (list(c) for c in zip(*rows, strict=True))
    fig = go.Figure()
    for name, series, color, dash in (
        ("Opening MRR (month's first day)", opening, "#3a86ff", "solid"),
        ("Closing MRR (month's last day)", closing, "#14213d", "dot"),
    ):
        fig.add_trace(
            go.Scatter(
                x=months,
                y=series,
                name=name,
                mode="lines",
                line={"color": color, "width": 2, "dash": dash},
                hovertemplate=f"{name.split(' (')[0]} {ctx.hover_money()}<extra></extra>",
            )
        )
    _base_layout(fig, ctx, y_title="MRR")
    fig.update_xaxes(title_text="Month", tickformat="%b %Y")
    return fig


def _draw_bridge_detail(con: duckdb.DuckDBPyConnection, ctx: Context) -> go.Figure | None:
    window = _last_months(ctx)
    if window is None:
        return None
    # Existing customers only (MRR before and after): new customers and churn are the
    # movements chart's; what is left is cross-sell, removals, quantity and price.
    rows = con.execute(
        "select b.month, sum(b.new_product)::double, sum(b.quantity)::double, "
        "sum(b.price)::double, sum(b.removed_product)::double "
        "from marts.fct_mrr_bridge_detail as b "
        "join marts.fct_mrr_monthly as m using (master_account_id, month) "
        "where m.previous_mrr > 0 and m.mrr > 0 and b.month between ? and ? "
        "group by b.month order by b.month",
        list(window),
    ).fetchall()
    if not rows:
        return None
    months = [r[0] for r in rows]
    fig = go.Figure()
    for index, (label, color) in enumerate(BRIDGE_PARTS.values(), start=1):
        fig.add_trace(
            go.Bar(
                x=months,
                y=[r[index] for r in rows],
                name=label,
                marker_color=color,
                hovertemplate=f"{label} {ctx.hover_money()}<extra></extra>",
            )
        )
    _mrr_change_by_month_layout(fig, ctx)
    return fig


def _draw_retention_ttm(con: duckdb.DuckDBPyConnection, ctx: Context) -> go.Figure | None:
    rows = con.execute(
        "select month, nrr::double, grr::double, logo_retention::double, cohort_customers "
        "from marts.fct_retention_ttm order by month"
    ).fetchall()
    if not rows:
        return None
    months = [r[0] for r in rows]
    fig = go.Figure()
    for index, (label, color, dash) in enumerate(RETENTION_LINES.values(), start=1):
        fig.add_trace(
            go.Scatter(
                x=months,
                y=[r[index] for r in rows],
                customdata=[r[4] for r in rows],
                name=label,
                mode="lines+markers",
                line={"color": color, "width": 2, "dash": dash},
                hovertemplate=f"{label} %{{y:.1%}} (cohort of %{{customdata}} customers)"
                "<extra></extra>",
            )
        )
    _base_layout(fig, ctx, y_title="Retention over 12 months", money=False)
    fig.update_yaxes(tickformat=".0%")
    fig.update_xaxes(title_text="Month", tickformat="%b %Y")
    return fig


def _draw_cohorts(con: duckdb.DuckDBPyConnection, ctx: Context) -> go.Figure | None:
    rows = con.execute(
        "select cohort_month, months_since_start, revenue_retention::double, "
        "logo_retention::double, cohort_customers "
        "from marts.fct_cohort_retention order by cohort_month, months_since_start"
    ).fetchall()
    if not rows:
        return None
    cohorts = sorted({r[0] for r in rows})
    ages = sorted({r[1] for r in rows})
    cells = {(r[0], r[1]): r for r in rows}
    z = [[cells[(c, a)][2] if (c, a) in cells else None for a in ages] for c in cohorts]
    logos = [[cells[(c, a)][3] if (c, a) in cells else None for a in ages] for c in cohorts]
    sizes = [next(r[4] for r in rows if r[0] == c) for c in cohorts]
    fig = go.Figure(
        go.Heatmap(
            x=ages,
            y=[f"{c:%b %Y} ({n})" for c, n in zip(cohorts, sizes, strict=True)],
            z=z,
            customdata=logos,
            colorscale="Blues",
            zmin=0,
            zmax=max(1.0, max((v for row in z for v in row if v is not None), default=1.0)),
            colorbar={"title": "MRR kept", "tickformat": ".0%"},
            hovertemplate="Cohort %{y}, month %{x}: MRR %{z:.0%} of its start, "
            "customers %{customdata:.0%}<extra></extra>",
            name="Revenue retention",
        )
    )
    _base_layout(fig, ctx, y_title="Cohort (first month with MRR, customers)", money=False)
    fig.update_layout(height=max(460, 22 * len(cohorts) + 160), hovermode="closest")
    fig.update_yaxes(autorange="reversed", rangemode="normal", type="category")
    fig.update_xaxes(title_text="Months since the cohort's first month")
    return fig


def _label(code: str) -> str:
    """in_queue -> In queue: a mart's code value as a legend label."""
    return code.replace("_", " ").strip().capitalize()


def _draw_renewals(con: duckdb.DuckDBPyConnection, ctx: Context) -> go.Figure | None:
    rows = con.execute(
        "select source_type, end_quarter::varchar, coalesce(renewal_status, 'unknown'), "
        "sum(arr)::double, count(*) from marts.fct_renewal_pipeline group by all order by all"
    ).fetchall()
    if not rows:
        return None
    # A customer's contract and its subscription describe the same business: one panel
    # per source type, never summed across them.
    source_types = sorted({r[0] for r in rows})
    quarters = sorted({r[1] for r in rows})
    known = list(RENEWAL_STATUS_COLORS)
    statuses = sorted(
        {r[2] for r in rows}, key=lambda s: (known.index(s) if s in known else len(known), s)
    )
    by_key = {(r[0], r[1], r[2]): (r[3] or 0.0, r[4]) for r in rows}
    fig = make_subplots(
        rows=1,
        cols=len(source_types),
        shared_yaxes=True,
        horizontal_spacing=0.06,
        subplot_titles=[f"{_label(s)}s" for s in source_types],
    )
    for col, source_type in enumerate(source_types, start=1):
        for status in statuses:
            values = [by_key.get((source_type, q, status), (0.0, 0)) for q in quarters]
            fig.add_trace(
                go.Bar(
                    x=quarters,
                    y=[v[0] for v in values],
                    customdata=[v[1] for v in values],
                    name=_label(status),
                    legendgroup=status,
                    showlegend=col == 1,
                    marker_color=RENEWAL_STATUS_COLORS.get(status),
                    hovertemplate=f"{_label(status)}: {ctx.hover_money()} ARR, "
                    f"%{{customdata}} {source_type}s<extra></extra>",
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text="Quarter it ends", type="category", row=1, col=col)
    _base_layout(fig, ctx, y_title="ARR up for renewal")
    fig.update_yaxes(title_text=None, col=2)
    fig.update_layout(barmode="stack", hovermode="closest")
    return fig


def _draw_bookings(con: duckdb.DuckDBPyConnection, ctx: Context) -> go.Figure | None:
    window = _last_months(ctx)
    has_flag = "is_new_logo" in ctx.columns["fct_opportunities"]
    split = (
        "case when coalesce(is_new_logo, false) then 'New logos' else 'Existing customers' end"
        if has_flag
        else "coalesce(opportunity_type, 'No type')"
    )
    rows = con.execute(
        f"select date_trunc('month', close_date)::date as close_month, {split} as segment, "
        "sum(arr)::double, count(*) from marts.fct_opportunities "
        "where is_won and close_date >= ? and close_date < ? group by all order by all",
        [window[0], _add_months(window[1], 1)],
    ).fetchall()
    if not rows:
        return None
    months = [_add_months(window[0], i) for i in range(12)]
    segments = sorted(
        {r[1] for r in rows}, key=lambda s: (s not in ("New logos", "New Business"), s)
    )
    palette = ["#1b7f3b", "#3a86ff", "#8e44ad", "#f4a261", "#6c757d"]
    by_key = {(r[0], r[1]): (r[2], r[3]) for r in rows}
    fig = go.Figure()
    for index, segment in enumerate(segments):
        values = [by_key.get((m, segment), (0.0, 0)) for m in months]
        fig.add_trace(
            go.Bar(
                x=months,
                y=[v[0] for v in values],
                customdata=[v[1] for v in values],
                name=segment,
                marker_color=palette[index % len(palette)],
                hovertemplate=f"{segment}: {ctx.hover_money()} ARR, "
                "%{customdata} won opportunities<extra></extra>",
            )
        )
    _base_layout(fig, ctx, y_title="Won ARR")
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text="Close month", dtick="M1", tickformat="%b %Y")
    return fig


def _draw_queue_age(con: duckdb.DuckDBPyConnection, ctx: Context) -> go.Figure | None:
    bucket = (
        "case "
        + " ".join(
            f"when days_in_queue <= {high} then '{label}'"
            if high is not None
            else f"else '{label}'"
            for label, _, high in QUEUE_AGE_BUCKETS
        )
        + " end"
    )
    rows = con.execute(
        f"select {bucket} as age, coalesce(status, 'unknown'), count(*) "
        "from marts.fct_potential_subscriptions where days_in_queue is not null group by all"
    ).fetchall()
    if not rows:
        return None
    labels = [label for label, _, _ in QUEUE_AGE_BUCKETS]
    known = list(QUEUE_STATUS_COLORS)
    statuses = sorted(
        {r[1] for r in rows}, key=lambda s: (known.index(s) if s in known else len(known), s)
    )
    by_key = {(r[0], r[1]): r[2] for r in rows}
    fig = go.Figure()
    for status in statuses:
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[by_key.get((label, status), 0) for label in labels],
                name=_label(status),
                marker_color=QUEUE_STATUS_COLORS.get(status),
                hovertemplate=f"{_label(status)}: %{{y:,}} potential subscriptions<extra></extra>",
            )
        )
    _base_layout(fig, ctx, y_title="Potential subscriptions", money=False)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text="Days in the queue", type="category")
    fig.update_yaxes(tickformat=",d")
    return fig


# Movements of fct_pipeline_waterfall in the order a waterfall draws them (SPEC 4.12).
PIPELINE_MOVEMENTS = (
    "created", "moved_in", "reopened", "increased", "decreased", "moved_out", "won", "lost",
    "deleted",
)  # fmt: skip


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _quarter_label(start: date) -> str:
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def _draw_pipeline_waterfall(con: duckdb.DuckDBPyConnection, ctx: Context) -> go.Figure | None:
    """The pipeline of the current and the next quarter's close months, from the first
    snapshot of the as-of month to the latest one (grain month, SPEC 4.12)."""
    if ctx.as_of is None:
        return None
    current = _quarter_start(ctx.as_of)
    quarters = [current, _add_months(current, 3)]
    pair = con.execute(
        "select from_snapshot_date, to_snapshot_date from marts.fct_pipeline_waterfall "
        "where grain = 'month' and from_snapshot_date <= ? "
        "order by from_snapshot_date desc limit 1",
        [ctx.as_of],
    ).fetchone()
    if pair is None:
        return None
    rows = con.execute(
        "select close_month, movement, sum(amount)::double from marts.fct_pipeline_waterfall "
        "where grain = 'month' and from_snapshot_date = ? and to_snapshot_date = ? "
        "and close_month >= ? and close_month < ? group by all",
        [pair[0], pair[1], quarters[0], _add_months(quarters[0], 6)],
    ).fetchall()
    if not rows:
        return None
    fig = go.Figure()
    for start in quarters:
        totals: dict[str, float] = {}
        for close_month, movement, amount in rows:
            if start <= close_month < _add_months(start, 3):
                totals[movement] = totals.get(movement, 0.0) + amount
        labels = ["Opening", *(m.replace("_", " ").capitalize() for m in PIPELINE_MOVEMENTS)]
        values = [totals.get("opening", 0.0), *(totals.get(m, 0.0) for m in PIPELINE_MOVEMENTS)]
        labels.append("Closing")
        values.append(totals.get("closing", 0.0))
        quarter = f"Close {_quarter_label(start)}"
        fig.add_trace(
            go.Waterfall(
                x=[[quarter] * len(labels), labels],
                y=values,
                measure=["absolute", *["relative"] * len(PIPELINE_MOVEMENTS), "total"],
                name=quarter,
                text=[ctx.compact_money(v) if v else "" for v in values],
                textposition="outside",
                cliponaxis=False,
                connector={"line": {"color": "#adb5bd", "width": 1}},
                increasing={"marker": {"color": MOVEMENT_COLORS["new"]}},
                decreasing={"marker": {"color": MOVEMENT_COLORS["churn"]}},
                totals={"marker": {"color": "#3a86ff"}},
                hovertemplate=f"%{{x}}: {ctx.hover_money()}<extra></extra>",
            )
        )
    _base_layout(fig, ctx, y_title="Open pipeline (amount)")
    fig.update_layout(
        showlegend=False,
        hovermode="closest",
        title={"text": f"{_day(pair[0])} → {_day(pair[1])}", "font": {"size": 13}},
    )
    return fig


CHARTS: tuple[Chart, ...] = (
    Chart(
        "MRR and ARR over time",
        "Monthly recurring revenue of all customers on each month's first day, and its "
        "annual run rate (ARR = 12 × MRR).",
        {"fct_mrr_monthly": ("month", "mrr", "arr")},
        _draw_mrr_arr,
    ),
    Chart(
        "Closing vs opening MRR",
        "MRR of each month's first day (opening, the dbt MRR playbook's convention) and of "
        "its last day (closing, ChartMogul's and most finance teams'): a mid-month start "
        "counts in closing MRR of its month, in opening MRR from the next.",
        {"fct_mrr_monthly": ("month", "opening_mrr", "closing_mrr")},
        _draw_opening_closing,
    ),
    Chart(
        "MRR bridge, last 12 months",
        "From MRR twelve months ago to MRR today: what new customers, expansions and "
        "reactivations added, and what contractions and churn took away.",
        {
            "fct_mrr_movements": (
                "month",
                "movement",
                "mrr_change",
                "month_starting_mrr",
                "month_ending_mrr",
            )
        },
        _draw_mrr_bridge,
    ),
    Chart(
        "MRR movements by month",
        "Each month's MRR change by movement (growth above zero, losses below) and the "
        "resulting net new MRR.",
        {"fct_mrr_movements": ("month", "movement", "mrr_change", "accounts")},
        _draw_movements_by_month,
    ),
    Chart(
        "Existing customers' MRR change: cross-sell, quantity and price",
        "For customers with MRR in both months, each month's change split by product: "
        "products added (cross-sell) or removed, quantity changes at the old unit MRR, "
        "and price changes on the new quantity. They add up to those customers' change.",
        {
            "fct_mrr_bridge_detail": (
                "master_account_id",
                "month",
                "new_product",
                "removed_product",
                "quantity",
                "price",
            ),
            "fct_mrr_monthly": ("master_account_id", "month", "previous_mrr", "mrr"),
        },
        _draw_bridge_detail,
    ),
    Chart(
        "Trailing-twelve-month NRR and GRR",
        "Per month, the customers that had MRR twelve months before: their MRR now over "
        "their MRR then (NRR), the same with each customer capped at its MRR then (GRR), "
        "and the share of them still paying (SaaS Capital's definitions).",
        {"fct_retention_ttm": ("month", "nrr", "grr", "logo_retention", "cohort_customers")},
        _draw_retention_ttm,
    ),
    Chart(
        "Cohort retention",
        "Customers by the month they first had MRR: the share of the cohort's starting MRR "
        "they have in each month since (hover for the share of customers still paying).",
        {
            "fct_cohort_retention": (
                "cohort_month",
                "months_since_start",
                "revenue_retention",
                "logo_retention",
                "cohort_customers",
            )
        },
        _draw_cohorts,
    ),
    Chart(
        "MRR forecast by scenario",
        "Actual MRR for the last 12 months, then 24 months ahead per scenario: committed MRR "
        "from subscriptions (known ends included), plus open pipeline, minus renewals at risk; "
        "expected renewals: committed MRR plus renewals without an opportunity at the "
        "trailing-twelve-month gross renewal rate.",
        {
            "fct_mrr_forecast_monthly": (
                "month",
                "scenario",
                "committed_mrr",
                "pipeline_mrr",
                "at_risk_mrr",
                "forecast_mrr",
            )
        },
        _draw_forecast,
    ),
    Chart(
        "Renewals due by quarter",
        "ARR up for renewal by the quarter the contract or subscription ends, by renewal "
        "status. A contract and its subscription can be the same business: shown apart.",
        {"fct_renewal_pipeline": ("source_type", "end_quarter", "renewal_status", "arr")},
        _draw_renewals,
    ),
    Chart(
        "Bookings: new logos vs existing customers",
        "ARR of opportunities won in each of the last 12 months: new logos vs existing "
        "customers (by opportunity type where the warehouse has no new-logo flag).",
        {"fct_opportunities": ("close_date", "is_won", "arr")},
        _draw_bookings,
    ),
    Chart(
        "Potential-subscription queue age",
        "Potential subscriptions by days in the customer-success queue: for those in the "
        "queue, days waiting so far; for activated ones, the days activation took.",
        {"fct_potential_subscriptions": ("status", "days_in_queue")},
        _draw_queue_age,
    ),
    Chart(
        "Pipeline waterfall, this quarter and next",
        "How the open pipeline closing in the current and the next quarter moved since the "
        "first snapshot of this month: created, moved in (close date pulled in), reopened, "
        "increased and decreased, moved out (pushed), won, lost and deleted.",
        {
            "fct_pipeline_waterfall": (
                "grain",
                "from_snapshot_date",
                "to_snapshot_date",
                "close_month",
                "movement",
                "amount",
            )
        },
        _draw_pipeline_waterfall,
    ),
)


# --- tables ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """One table: its title, what it shows, the mart columns it reads, how to fill it.
    `rows` returns the header and the rows as text, or None when there is nothing to show
    (then `empty` says why, in words)."""

    title: str
    description: str
    needs: dict[str, tuple[str, ...]]
    rows: Callable[[duckdb.DuckDBPyConnection, Context], tuple[list[str], list[list[str]]] | None]
    empty: str

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-")


LEAD_TIMES = ((0, "0-6 days"), (7, "7-13 days"), (14, "14-29 days"), (30, "30-59 days"),
              (60, "60-89 days"), (90, "90+ days"))  # fmt: skip
FORECAST_METHODS = {
    "commit": "Commit",
    "best_case": "Best case",
    "pipeline": "Pipeline",
    "weighted_pipeline": "Weighted pipeline",
}
COUNT_METRICS = ("new_logo_count",)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}%"


def _forecast_accuracy_rows(con: duckdb.DuckDBPyConnection, ctx: Context):
    """Mean absolute percentage error of each method by lead time, over closed months."""
    found = con.execute(
        """
        select
            case
                when days_before_month_end < 7 then 0
                when days_before_month_end < 14 then 7
                when days_before_month_end < 30 then 14
                when days_before_month_end < 60 then 30
                when days_before_month_end < 90 then 60
                else 90
            end as lead_time,
            method,
            avg(abs_pct_error)::double,
            count(*)
        from marts.fct_forecast_accuracy
        where is_month_closed
        group by all
        """
    ).fetchall()
    if not found:
        return None
    errors = {(lead, method): (error, n) for lead, method, error, n in found}
    header = ["Days before the month's end", *FORECAST_METHODS.values(), "Forecasts"]
    rows = []
    for lead, label in LEAD_TIMES:
        cells = [errors.get((lead, m)) for m in FORECAST_METHODS]
        if any(cells):
            counted = max(c[1] for c in cells if c)
            rows.append([label, *(_percent(c[0]) if c else "n/a" for c in cells), f"{counted:,}"])
    return header, rows


def _month_close_value(ctx: Context, metric: str, value) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if metric in COUNT_METRICS else ctx.money(float(value))


def _month_close_rows(con: duckdb.DuckDBPyConnection, ctx: Context):
    """The latest closed month's figures, and every earlier figure that was restated."""
    found = con.execute(
        """
        select month, metric, reported_value, restated_value, difference, frozen_at_as_of
        from marts.fct_month_close
        where month = (select max(month) from marts.fct_month_close) or difference != 0
        order by month desc, metric_order
        """
    ).fetchall()
    if not found:
        return None
    header = ["Month", "Figure", "Reported", "Restated", "Difference", "Frozen as of"]
    rows = [
        [
            f"{month:%b %Y}",
            metric.replace("_", " "),
            _month_close_value(ctx, metric, reported),
            _month_close_value(ctx, metric, restated),
            _month_close_value(ctx, metric, difference) if difference else "",
            _day(frozen),
        ]
        for month, metric, reported, restated, difference, frozen in found
    ]
    return header, rows


RESTATEMENT_ROWS = 40


def _restatement_rows(con: duckdb.DuckDBPyConnection, ctx: Context):
    """The records behind the restated figures, largest differences first."""
    found = con.execute(
        f"""
        select month, metric, record_type, record_id, difference, reason
        from marts.fct_restatements
        order by month desc, abs(difference) desc, metric, record_id
        limit {RESTATEMENT_ROWS}
        """
    ).fetchall()
    if not found:
        return None
    header = ["Month", "Figure", "Record", "Difference", "Why"]
    rows = [
        [
            f"{month:%b %Y}",
            metric.replace("_", " "),
            f"{record_type.replace('_', ' ')} {record_id}",
            _month_close_value(ctx, metric, difference),
            reason,
        ]
        for month, metric, record_type, record_id, difference, reason in found
    ]
    return header, rows


TABLES: tuple[Table, ...] = (
    Table(
        "Forecast accuracy by lead time",
        "How far each forecast method was from what was won, by how many days before the "
        "month's end the forecast was made: mean absolute percentage error over the close "
        "months that are over.",
        {"fct_forecast_accuracy": ("days_before_month_end", "method", "abs_pct_error",
                                   "is_month_closed")},
        _forecast_accuracy_rows,
        "no close month of the snapshots has ended yet; forecasts are judged once their "
        "month is over",
    ),
    Table(
        "Month close: reported vs restated",
        "The latest closed month's figures as reported when it closed and as today's data "
        "gives them, and every earlier figure that has been restated since.",
        {"fct_month_close": ("month", "metric", "reported_value", "restated_value",
                             "difference", "frozen_at_as_of", "metric_order")},
        _month_close_rows,
        "no month is closed yet",
    ),
    Table(
        "Restatements",
        "The deals, subscription items and customers whose changes since a month's close "
        f"explain its restated figures (the {RESTATEMENT_ROWS} largest).",
        {"fct_restatements": ("month", "metric", "record_type", "record_id", "difference",
                              "reason")},
        _restatement_rows,
        "no closed month has been restated: every figure is as reported",
    ),
)  # fmt: skip


def _table_section(table: Table, content, missing: str | None) -> str:
    head = (
        f'<section class="chart table" id="{table.slug}" data-table="{html.escape(table.title)}">'
        f"<h2>{html.escape(table.title)}</h2>"
        f'<p class="description">{html.escape(table.description)}</p>'
    )
    if missing:
        return (
            f'{head}<p class="unavailable">Not available in this warehouse: '
            f"{html.escape(missing)}.</p></section>"
        )
    if content is None:
        return f'{head}<p class="empty">Nothing to show: {html.escape(table.empty)}.</p></section>'
    header, rows = content
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"{head}<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table></section>"


# --- the page --------------------------------------------------------------------------


def _section(chart: Chart, figure: go.Figure | None, missing: str | None) -> str:
    head = (
        f'<section class="chart" id="{chart.slug}" data-chart="{html.escape(chart.title)}">'
        f"<h2>{html.escape(chart.title)}</h2>"
        f'<p class="description">{html.escape(chart.description)}</p>'
    )
    if figure is None:
        reason = missing or f"{' and '.join(f'marts.{m}' for m in chart.needs)} has no rows for it"
        return (
            f'{head}<p class="unavailable">Not available in this warehouse: '
            f"{html.escape(reason)}.</p></section>"
        )
    body = pio.to_html(
        figure,
        full_html=False,
        include_plotlyjs=False,
        div_id=f"figure-{chart.slug}",
        config=PLOTLY_CONFIG,
        default_height="460px",
    )
    return f"{head}{body}</section>"


def _page(
    warehouse: Path, ctx: Context, figures: list[tuple[str, str, str]], sections: list[str]
) -> str:
    cards = "".join(
        f'<div class="figure"><div class="label">{html.escape(label)}</div>'
        f'<div class="value">{html.escape(value)}</div>'
        f'<div class="note">{html.escape(note)}</div></div>'
        for label, value, note in figures
    )
    as_of = _day(ctx.as_of)
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
