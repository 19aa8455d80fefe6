"""The finance report's charts: plotly figures drawn from the rows of report.queries.

Every figure gets the report's one layout (`_layout`); a chart adds only what is its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dagster_project.lib.report import queries
from dagster_project.lib.report.context import (
    Context,
    add_months,
    day,
    label,
    last_months,
    quarter_start,
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
# Waiting potential subscriptions are the ones customer success acts on.
QUEUE_STATUS_COLORS = {"in_queue": "#f4a261", "activated": "#3a86ff"}
BOOKING_SEGMENTS = ("New logos", "Existing customers")
BOOKING_COLORS = ("#1b7f3b", "#3a86ff")  # by the order of the segments drawn
# Movements of fct_pipeline_waterfall in the order a waterfall draws them (SPEC 4.12).
PIPELINE_MOVEMENTS = (
    "created", "moved_in", "reopened", "increased", "decreased", "moved_out", "won", "lost",
    "deleted",
)  # fmt: skip
MONTHLY_AXIS = {"title_text": "Month (MRR on the month's first day)", "dtick": "M3"}


def _layout(
    fig: go.Figure,
    ctx: Context,
    y_title: str,
    *,
    money: bool = True,
    x: dict | None = None,
    y: dict | None = None,
    **layout: Any,
) -> go.Figure:
    """The report's look: white template, legend below, unified hover, money on the y axis;
    `x`, `y` and `layout` are the chart's own additions to its axes and layout."""
    fig.update_layout(
        template="plotly_white",
        height=460,
        margin={"l": 80, "r": 30, "t": 40, "b": 110},
        legend={"orientation": "h", "yanchor": "top", "y": -0.28, "x": 0, "traceorder": "normal"},
        hovermode="x unified",
        font={"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 13},
    )
    fig.update_yaxes(title_text=y_title, rangemode="tozero")
    if money:
        fig.update_yaxes(**ctx.money_axis)
    if layout:
        fig.update_layout(**layout)
    if y:
        fig.update_yaxes(**y)
    if x:
        fig.update_xaxes(**x)
    return fig


def _line(x, y, name: str, color: str | None, hover: str, **more: Any) -> go.Scatter:
    """A line trace of width 2 (unless `line` says otherwise) in `color`."""
    line = {"color": color, "width": 2} | more.pop("line", {})
    mode = more.pop("mode", "lines")
    return go.Scatter(x=x, y=y, name=name, mode=mode, line=line, hovertemplate=hover, **more)


def _bar(x, y, name: str, color: str | None, hover: str, **more: Any) -> go.Bar:
    """A bar trace in `color`."""
    return go.Bar(x=x, y=y, name=name, marker_color=color, hovertemplate=hover, **more)


def _waterfall(ctx: Context, x, values: list[float], text: list[str], **more: Any) -> go.Waterfall:
    """Opening, relative steps, closing: growth green, losses red, totals blue."""
    return go.Waterfall(
        x=x,
        y=values,
        measure=["absolute", *["relative"] * (len(values) - 2), "total"],
        text=text,
        textposition="outside",
        cliponaxis=False,
        connector={"line": {"color": "#adb5bd", "width": 1}},
        increasing={"marker": {"color": MOVEMENT_COLORS["new"]}},
        decreasing={"marker": {"color": MOVEMENT_COLORS["churn"]}},
        totals={"marker": {"color": "#3a86ff"}},
        hovertemplate=f"%{{x}}: {ctx.hover_money()}<extra></extra>",
        **more,
    )


def _present(known: Iterable[str], found: Iterable[str]) -> list[str]:
    """The values of `known` that the rows have, in `known`'s order."""
    found = set(found)
    return [value for value in known if value in found]


def _nice_step(raw: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^n at least `raw`: a step for readable axis ticks."""
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def draw_mrr_arr(rows: list[tuple], ctx: Context) -> go.Figure:
    """MRR as an area on the left axis, ARR as a line on the right one, tick for tick."""
    months, mrr, arr, customers = (list(c) for c in zip(*rows, strict=True))
    mrr_hover = f"MRR {ctx.hover_money()}<br>%{{customdata:,}} paying customers<extra></extra>"
    fig = go.Figure()
    fig.add_trace(
        _line(months, mrr, "MRR (left axis)", "#3a86ff", mrr_hover, fill="tozeroy",
              fillcolor="rgba(58, 134, 255, 0.15)", customdata=customers)
    )  # fmt: skip
    fig.add_trace(
        _line(months, arr, "ARR (right axis)", "#14213d", f"ARR {ctx.hover_money()}<extra></extra>",
              yaxis="y2", line={"dash": "dot"})
    )  # fmt: skip
    # ARR is 12 × MRR (the mart's definition): the right axis is the left one times twelve,
    # tick for tick, so ARR's line traces MRR's area and either axis reads off the curve.
    top = max(max(mrr), 1.0) * 1.05
    step = _nice_step(top / 7)
    ticks = [step * i for i in range(int(top // step) + 2)]
    return _layout(
        fig,
        ctx,
        "MRR",
        x=MONTHLY_AXIS,
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


def draw_opening_closing(rows: list[tuple], ctx: Context) -> go.Figure:
    """Opening and closing MRR of every month."""
    months, opening, closing = (list(c) for c in zip(*rows, strict=True))
    fig = go.Figure()
    for name, series, color, dash in (
        ("Opening MRR (month's first day)", opening, "#3a86ff", "solid"),
        ("Closing MRR (month's last day)", closing, "#14213d", "dot"),
    ):
        hover = f"{name.split(' (')[0]} {ctx.hover_money()}<extra></extra>"
        fig.add_trace(_line(months, series, name, color, hover, line={"dash": dash}))
    return _layout(fig, ctx, "MRR", x={"title_text": "Month", "tickformat": "%b %Y"})


def draw_mrr_bridge(rows: list[tuple], ctx: Context) -> go.Figure:
    """A waterfall from MRR twelve months ago through the movements to MRR today."""
    first_month, last_month = rows[0][0], rows[-1][0]
    # A customer base in its first year has no MRR before the window: it starts at 0.
    starting = next(r[4] for r in rows if r[0] == first_month) or 0.0
    ending = next(r[5] for r in rows if r[0] == last_month) or 0.0
    totals = {m: 0.0 for m in (*GROWTH_MOVEMENTS, *LOSS_MOVEMENTS)}
    for _, movement, change, *_ in rows:
        if movement in totals:
            totals[movement] += change
    labels = [
        f"MRR {day(add_months(first_month, -1))}",
        *(m.capitalize() for m in totals),
        f"MRR {day(last_month)}",
    ]
    values = [starting, *totals.values(), ending]
    fig = go.Figure(
        _waterfall(ctx, labels, values, [ctx.money(v) for v in values], name="MRR bridge")
    )
    running, peak = starting, max(starting, ending)
    for change in totals.values():
        running += change
        peak = max(peak, running)
    return _layout(
        fig, ctx, "MRR", y={"range": [0, peak * 1.15]}, showlegend=False, hovermode="closest"
    )


def _mrr_change_by_month(fig: go.Figure, ctx: Context) -> go.Figure:
    """Stacked MRR changes per month (positive up, negative down, zero line drawn)."""
    return _layout(
        fig,
        ctx,
        "MRR change",
        x={"title_text": "Month", "dtick": "M1", "tickformat": "%b %Y"},
        y={"rangemode": "normal", "zeroline": True, "zerolinecolor": "#6c757d"},
        barmode="relative",
    )


def draw_movements_by_month(rows: list[tuple], ctx: Context) -> go.Figure:
    """Each month's MRR movements stacked, with net new MRR as a line."""
    months = sorted({r[0] for r in rows})
    by_key = {(r[0], r[1]): (r[2], r[3]) for r in rows}
    fig = go.Figure()
    for movement in (*GROWTH_MOVEMENTS, *LOSS_MOVEMENTS):
        values = [by_key.get((m, movement), (0.0, 0)) for m in months]
        name = movement.capitalize()
        hover = f"{name} {ctx.hover_money()} (%{{customdata}} customers)<extra></extra>"
        fig.add_trace(
            _bar(months, [v[0] for v in values], name, MOVEMENT_COLORS[movement], hover,
                 customdata=[v[1] for v in values])
        )  # fmt: skip
    net_new = [sum(by_key.get((m, mv), (0.0, 0))[0] for mv in MOVEMENT_COLORS) for m in months]
    hover = f"Net new {ctx.hover_money()}<extra></extra>"
    fig.add_trace(_line(months, net_new, "Net new MRR", "#14213d", hover, mode="lines+markers"))
    return _mrr_change_by_month(fig, ctx)


def draw_bridge_detail(rows: list[tuple], ctx: Context) -> go.Figure:
    """Existing customers' monthly change: cross-sell, quantity, price, removals."""
    months = [r[0] for r in rows]
    fig = go.Figure()
    for index, (name, color) in enumerate(BRIDGE_PARTS.values(), start=1):
        hover = f"{name} {ctx.hover_money()}<extra></extra>"
        fig.add_trace(_bar(months, [r[index] for r in rows], name, color, hover))
    return _mrr_change_by_month(fig, ctx)


def draw_retention_ttm(rows: list[tuple], ctx: Context) -> go.Figure:
    """NRR, GRR and logo retention over trailing twelve months, per month."""
    months = [r[0] for r in rows]
    fig = go.Figure()
    for index, (name, color, dash) in enumerate(RETENTION_LINES.values(), start=1):
        hover = f"{name} %{{y:.1%}} (cohort of %{{customdata}} customers)<extra></extra>"
        fig.add_trace(
            _line(months, [r[index] for r in rows], name, color, hover, mode="lines+markers",
                  customdata=[r[4] for r in rows], line={"dash": dash})
        )  # fmt: skip
    return _layout(
        fig,
        ctx,
        "Retention over 12 months",
        money=False,
        x={"title_text": "Month", "tickformat": "%b %Y"},
        y={"tickformat": ".0%"},
    )


def draw_cohorts(rows: list[tuple], ctx: Context) -> go.Figure:
    """A heatmap of the MRR each monthly cohort keeps, month by month."""
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
    return _layout(
        fig,
        ctx,
        "Cohort (first month with MRR, customers)",
        money=False,
        x={"title_text": "Months since the cohort's first month"},
        y={"autorange": "reversed", "rangemode": "normal", "type": "category"},
        height=max(460, 22 * len(cohorts) + 160),
        hovermode="closest",
    )


def draw_forecast(rows: list[tuple], ctx: Context) -> go.Figure:
    """Actual MRR, then each scenario's forecast, parted at the as-of month."""
    fig = go.Figure()
    for scenario in _present(SCENARIOS, (r[1] for r in rows)):
        name, color, dash = SCENARIOS[scenario]
        points = [r for r in rows if r[1] == scenario]
        hover = (
            f"{name}: {ctx.hover_money()} (committed {ctx.symbol}%{{customdata[0]:,.0f}} + "
            f"pipeline {ctx.symbol}%{{customdata[1]:,.0f}} − at risk "
            f"{ctx.symbol}%{{customdata[2]:,.0f}})<extra></extra>"
        )
        fig.add_trace(
            _line([r[0] for r in points], [r[5] for r in points], name, color, hover,
                  customdata=[[r[2], r[3], r[4]] for r in points],
                  line={"width": 2.5, "dash": dash})
        )  # fmt: skip
    month = ctx.latest_month
    if month is None:
        return _layout(fig, ctx, "MRR", x=MONTHLY_AXIS)
    # Months before the as-of month are actuals; the scenarios part from it on.
    parting = {"type": "line", "x0": month, "x1": month, "y0": 0, "y1": 1, "yref": "paper",
               "line": {"color": "#6c757d", "width": 1, "dash": "dot"}}  # fmt: skip
    note = {"x": month, "y": 1, "yref": "paper", "showarrow": False, "yanchor": "bottom",
            "text": f"← actuals · as of {month:%b %Y} · forecast →",
            "font": {"size": 12, "color": "#5c667a"}}  # fmt: skip
    return _layout(fig, ctx, "MRR", x=MONTHLY_AXIS, shapes=[parting], annotations=[note])


def draw_renewals(rows: list[tuple], ctx: Context) -> go.Figure:
    """ARR up for renewal by end quarter and status, one panel per source type."""
    # A customer's contract and its subscription describe the same business: one panel
    # per source type, never summed across them.
    source_types = sorted({r[0] for r in rows})
    quarters = sorted({r[1] for r in rows})
    statuses = _present(RENEWAL_STATUS_COLORS, (r[2] for r in rows))
    by_key = {(r[0], r[1], r[2]): (r[3] or 0.0, r[4]) for r in rows}
    fig = make_subplots(
        rows=1,
        cols=len(source_types),
        shared_yaxes=True,
        horizontal_spacing=0.06,
        subplot_titles=[f"{label(s)}s" for s in source_types],
    )
    for col, source_type in enumerate(source_types, start=1):
        for status in statuses:
            values = [by_key.get((source_type, q, status), (0.0, 0)) for q in quarters]
            hover = (
                f"{label(status)}: {ctx.hover_money()} ARR, "
                f"%{{customdata}} {source_type}s<extra></extra>"
            )
            bar = _bar(quarters, [v[0] for v in values], label(status),
                       RENEWAL_STATUS_COLORS[status], hover, customdata=[v[1] for v in values],
                       legendgroup=status, showlegend=col == 1)  # fmt: skip
            fig.add_trace(bar, row=1, col=col)
        fig.update_xaxes(title_text="Quarter it ends", type="category", row=1, col=col)
    _layout(fig, ctx, "ARR up for renewal")
    fig.update_yaxes(title_text=None, col=2)
    fig.update_layout(barmode="stack", hovermode="closest")
    return fig


def draw_bookings(rows: list[tuple], ctx: Context) -> go.Figure:
    """Won ARR of the last 12 months, new logos and existing customers stacked."""
    first = last_months(ctx)[0]
    months = [add_months(first, i) for i in range(12)]
    by_key = {(r[0], r[1]): (r[2], r[3]) for r in rows}
    fig = go.Figure()
    for index, segment in enumerate(_present(BOOKING_SEGMENTS, (r[1] for r in rows))):
        values = [by_key.get((m, segment), (0.0, 0)) for m in months]
        hover = f"{segment}: {ctx.hover_money()} ARR, %{{customdata}} won opportunities"
        fig.add_trace(
            _bar(months, [v[0] for v in values], segment, BOOKING_COLORS[index],
                 hover + "<extra></extra>", customdata=[v[1] for v in values])
        )  # fmt: skip
    return _layout(
        fig,
        ctx,
        "Won ARR",
        x={"title_text": "Close month", "dtick": "M1", "tickformat": "%b %Y"},
        barmode="stack",
    )


def draw_queue_age(rows: list[tuple], ctx: Context) -> go.Figure:
    """Potential subscriptions by days in the queue, by status."""
    ages = [age for age, _ in queries.QUEUE_AGE_BUCKETS]
    by_key = {(r[0], r[1]): r[2] for r in rows}
    fig = go.Figure()
    for status in _present(QUEUE_STATUS_COLORS, (r[1] for r in rows)):
        hover = f"{label(status)}: %{{y:,}} potential subscriptions<extra></extra>"
        counts = [by_key.get((age, status), 0) for age in ages]
        fig.add_trace(_bar(ages, counts, label(status), QUEUE_STATUS_COLORS[status], hover))
    return _layout(
        fig,
        ctx,
        "Potential subscriptions",
        money=False,
        x={"title_text": "Days in the queue", "type": "category"},
        y={"tickformat": ",d"},
        barmode="stack",
    )


def draw_pipeline_waterfall(moves: tuple, ctx: Context) -> go.Figure:
    """The pipeline of the current and the next quarter's close months, from the first
    snapshot of the as-of month to the latest one (grain month, SPEC 4.12)."""
    from_snapshot, to_snapshot, rows = moves
    current = quarter_start(ctx.as_of)
    steps = ["Opening", *(m.replace("_", " ").capitalize() for m in PIPELINE_MOVEMENTS), "Closing"]
    fig = go.Figure()
    for start in (current, add_months(current, 3)):
        totals: dict[str, float] = {}
        for close_month, movement, amount in rows:
            if start <= close_month < add_months(start, 3):
                totals[movement] = totals.get(movement, 0.0) + amount
        values = [totals.get(m, 0.0) for m in ("opening", *PIPELINE_MOVEMENTS, "closing")]
        quarter = f"Close {start.year}-Q{(start.month - 1) // 3 + 1}"
        text = [ctx.compact_money(v) if v else "" for v in values]
        fig.add_trace(_waterfall(ctx, [[quarter] * len(steps), steps], values, text, name=quarter))
    title = {"text": f"{day(from_snapshot)} → {day(to_snapshot)}", "font": {"size": 13}}
    return _layout(
        fig, ctx, "Open pipeline (amount)", showlegend=False, hovermode="closest", title=title
    )
