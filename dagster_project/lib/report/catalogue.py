"""What the finance report shows, in its order: every chart and table with its title, the
words under it, the marts it reads, its query (report.queries) and its drawing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import plotly.graph_objects as go

from dagster_project.lib.report import charts, queries, tables
from dagster_project.lib.report.context import Context
from dagster_project.lib.report.tables import Cells


@dataclass(frozen=True)
class Chart:
    """One chart: its title, what it shows, the marts it reads, how to read and draw it.
    `read` returns the rows; none (an empty mart) is a note in place of the chart."""

    title: str
    description: str
    marts: tuple[str, ...]
    read: Callable[[duckdb.DuckDBPyConnection, Context], Any]
    draw: Callable[[Any, Context], go.Figure]


@dataclass(frozen=True)
class Table:
    """One table: its title, what it shows, the marts it reads, how to read and write it.
    When `read` finds no rows, `empty` says why there is nothing to show, in words."""

    title: str
    description: str
    marts: tuple[str, ...]
    read: Callable[[duckdb.DuckDBPyConnection, Context], list[tuple]]
    cells: Callable[[list[tuple], Context], Cells]
    empty: str


CHARTS: tuple[Chart, ...] = (
    Chart(
        "MRR and ARR over time",
        "Monthly recurring revenue of all customers on each month's first day, and its "
        "annual run rate (ARR = 12 × MRR).",
        ("fct_mrr_monthly",),
        queries.mrr_by_month,
        charts.draw_mrr_arr,
    ),
    Chart(
        "Closing vs opening MRR",
        "MRR of each month's first day (opening, the dbt MRR playbook's convention) and of "
        "its last day (closing, ChartMogul's and most finance teams'): a mid-month start "
        "counts in closing MRR of its month, in opening MRR from the next.",
        ("fct_mrr_monthly",),
        queries.opening_closing_by_month,
        charts.draw_opening_closing,
    ),
    Chart(
        "MRR bridge, last 12 months",
        "From MRR twelve months ago to MRR today: what new customers, expansions and "
        "reactivations added, and what contractions and churn took away.",
        ("fct_mrr_movements",),
        queries.movements,
        charts.draw_mrr_bridge,
    ),
    Chart(
        "MRR movements by month",
        "Each month's MRR change by movement (growth above zero, losses below) and the "
        "resulting net new MRR.",
        ("fct_mrr_movements",),
        queries.movements,
        charts.draw_movements_by_month,
    ),
    Chart(
        "Existing customers' MRR change: cross-sell, quantity and price",
        "For customers with MRR in both months, each month's change split by product: "
        "products added (cross-sell) or removed, quantity changes at the old unit MRR, "
        "and price changes on the new quantity. They add up to those customers' change.",
        ("fct_mrr_bridge_detail", "fct_mrr_monthly"),
        queries.existing_customer_changes,
        charts.draw_bridge_detail,
    ),
    Chart(
        "Trailing-twelve-month NRR and GRR",
        "Per month, the customers that had MRR twelve months before: their MRR now over "
        "their MRR then (NRR), the same with each customer capped at its MRR then (GRR), "
        "and the share of them still paying (SaaS Capital's definitions).",
        ("fct_retention_ttm",),
        queries.retention_ttm,
        charts.draw_retention_ttm,
    ),
    Chart(
        "Cohort retention",
        "Customers by the month they first had MRR: the share of the cohort's starting MRR "
        "they have in each month since (hover for the share of customers still paying).",
        ("fct_cohort_retention",),
        queries.cohorts,
        charts.draw_cohorts,
    ),
    Chart(
        "MRR forecast by scenario",
        "Actual MRR for the last 12 months, then 24 months ahead per scenario: committed MRR "
        "from subscriptions (known ends included), plus open pipeline, minus renewals at risk; "
        "expected renewals: committed MRR plus renewals without an opportunity at the "
        "trailing-twelve-month gross renewal rate.",
        ("fct_mrr_forecast_monthly",),
        queries.forecast,
        charts.draw_forecast,
    ),
    Chart(
        "Renewals due by quarter",
        "ARR up for renewal by the quarter the contract or subscription ends, by renewal "
        "status. A contract and its subscription can be the same business: shown apart.",
        ("fct_renewal_pipeline",),
        queries.renewals,
        charts.draw_renewals,
    ),
    Chart(
        "Bookings: new logos vs existing customers",
        "ARR of opportunities won in each of the last 12 months: new logos vs existing customers.",
        ("fct_opportunities",),
        queries.bookings,
        charts.draw_bookings,
    ),
    Chart(
        "Potential-subscription queue age",
        "Potential subscriptions by days in the customer-success queue: for those in the "
        "queue, days waiting so far; for activated ones, the days activation took.",
        ("fct_potential_subscriptions",),
        queries.queue_age,
        charts.draw_queue_age,
    ),
    Chart(
        "Pipeline waterfall, this quarter and next",
        "How the open pipeline closing in the current and the next quarter moved since the "
        "first snapshot of this month: created, moved in (close date pulled in), reopened, "
        "increased and decreased, moved out (pushed), won, lost and deleted.",
        ("fct_pipeline_waterfall",),
        queries.pipeline_moves,
        charts.draw_pipeline_waterfall,
    ),
)


TABLES: tuple[Table, ...] = (
    Table(
        "Forecast accuracy by lead time",
        "How far each forecast method was from what was won, by how many days before the "
        "month's end the forecast was made: mean absolute percentage error over the close "
        "months that are over.",
        ("fct_forecast_accuracy",),
        queries.forecast_errors,
        tables.forecast_accuracy_cells,
        "no close month of the snapshots has ended yet; forecasts are judged once their "
        "month is over",
    ),
    Table(
        "Month close: reported vs restated",
        "The latest closed month's figures as reported when it closed and as today's data "
        "gives them, and every earlier figure that has been restated since.",
        ("fct_month_close",),
        queries.month_close,
        tables.month_close_cells,
        "no month is closed yet",
    ),
    Table(
        "Restatements",
        "The deals, subscription items and customers whose changes since a month's close "
        f"explain its restated figures (the {queries.RESTATEMENT_ROWS} largest).",
        ("fct_restatements",),
        queries.restatements,
        tables.restatement_cells,
        "no closed month has been restated: every figure is as reported",
    ),
)

# Every mart the report reads: a warehouse without one of them is some other file.
MARTS = frozenset({"build_info", *(mart for part in (*CHARTS, *TABLES) for mart in part.marts)})
