"""Reading the warehouse for the finance report: the public marts (SPEC 5) only, read-only.

Each chart's and table's query returns plain rows; an empty list (or None) is a mart with
nothing to show yet, such as a new company's first month.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from dagster_project.lib.report.context import (
    Context,
    ReportError,
    add_months,
    day,
    last_months,
    quarter_start,
)

Connection = duckdb.DuckDBPyConnection

# Days in the customer-success queue, in the buckets the queue-age chart shows.
QUEUE_AGE_BUCKETS = (
    ("0–7 days", 7),
    ("8–30 days", 30),
    ("31–60 days", 60),
    ("61–90 days", 90),
    ("over 90 days", None),
)
RESTATEMENT_ROWS = 40


def check_warehouse(con: Connection, warehouse: Path, marts: set[str]) -> None:
    """Raise ReportError unless `warehouse` has every mart in `marts`: it is another file."""
    found = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }
    missing = sorted(marts - found)
    if missing:
        raise ReportError(
            f"{warehouse} is not a recurwise warehouse: it has no "
            f"{', '.join(f'marts.{m}' for m in missing)}; build one with recurwise build"
        )


def read_context(con: Connection) -> Context:
    """The as-of date and currency of the build (marts.build_info) and its as-of month."""
    as_of, last_snapshot, currency = con.execute(
        "select as_of_date, last_snapshot_date, corporate_currency from marts.build_info"
    ).fetchone()
    return Context(
        as_of=as_of,
        as_of_source=(
            "the latest CRM snapshot"
            if as_of == last_snapshot
            else f"the build's as-of date (CRM snapshot of {day(last_snapshot)})"
        ),
        latest_month=con.execute("select max(month) from marts.fct_mrr_monthly").fetchone()[0],
        currency=currency,
    )


def month_totals(con: Connection, month: date) -> tuple[float, float, int, float]:
    """MRR, ARR, paying customers and net new MRR of `month`."""
    return con.execute(
        "select sum(mrr)::double, sum(arr)::double, count(*) filter (where mrr > 0), "
        "sum(mrr_change)::double from marts.fct_mrr_monthly where month = ?",
        [month],
    ).fetchone()


# --- the charts' rows -------------------------------------------------------------------


def mrr_by_month(con: Connection, ctx: Context) -> list[tuple]:
    """month, MRR, ARR, paying customers."""
    return con.execute(
        "select month, sum(mrr)::double, sum(arr)::double, count(*) filter (where mrr > 0) "
        "from marts.fct_mrr_monthly group by month order by month"
    ).fetchall()


def opening_closing_by_month(con: Connection, ctx: Context) -> list[tuple]:
    """month, opening MRR, closing MRR."""
    return con.execute(
        "select month, sum(opening_mrr)::double, sum(closing_mrr)::double "
        "from marts.fct_mrr_monthly group by month order by month"
    ).fetchall()


def movements(con: Connection, ctx: Context) -> list[tuple]:
    """month, movement, MRR change, accounts, month's starting and ending MRR: 12 months."""
    return con.execute(
        "select month, movement, mrr_change::double, accounts, "
        "month_starting_mrr::double, month_ending_mrr::double "
        "from marts.fct_mrr_movements where month between ? and ? order by month, movement",
        list(last_months(ctx)),
    ).fetchall()


def existing_customer_changes(con: Connection, ctx: Context) -> list[tuple]:
    """month, new product, quantity, price, removed product: the last 12 months."""
    # Existing customers only (MRR before and after): new customers and churn are the
    # movements chart's; what is left is cross-sell, removals, quantity and price.
    return con.execute(
        "select b.month, sum(b.new_product)::double, sum(b.quantity)::double, "
        "sum(b.price)::double, sum(b.removed_product)::double "
        "from marts.fct_mrr_bridge_detail as b "
        "join marts.fct_mrr_monthly as m using (master_account_id, month) "
        "where m.previous_mrr > 0 and m.mrr > 0 and b.month between ? and ? "
        "group by b.month order by b.month",
        list(last_months(ctx)),
    ).fetchall()


def retention_ttm(con: Connection, ctx: Context) -> list[tuple]:
    """month, NRR, GRR, logo retention, cohort customers."""
    return con.execute(
        "select month, nrr::double, grr::double, logo_retention::double, cohort_customers "
        "from marts.fct_retention_ttm order by month"
    ).fetchall()


def cohorts(con: Connection, ctx: Context) -> list[tuple]:
    """cohort month, months since start, revenue retention, logo retention, customers."""
    return con.execute(
        "select cohort_month, months_since_start, revenue_retention::double, "
        "logo_retention::double, cohort_customers "
        "from marts.fct_cohort_retention order by cohort_month, months_since_start"
    ).fetchall()


def forecast(con: Connection, ctx: Context) -> list[tuple]:
    """month, scenario, committed, pipeline, at-risk and forecast MRR."""
    return con.execute(
        "select month, scenario, committed_mrr::double, pipeline_mrr::double, "
        "at_risk_mrr::double, forecast_mrr::double "
        "from marts.fct_mrr_forecast_monthly order by month"
    ).fetchall()


def renewals(con: Connection, ctx: Context) -> list[tuple]:
    """source type, end quarter, renewal status, ARR, count."""
    return con.execute(
        "select source_type, end_quarter::varchar, renewal_status, sum(arr)::double, count(*) "
        "from marts.fct_renewal_pipeline group by all order by all"
    ).fetchall()


def bookings(con: Connection, ctx: Context) -> list[tuple]:
    """close month, segment (New logos, Existing customers), won ARR, count: 12 months."""
    first, last = last_months(ctx)
    return con.execute(
        "select date_trunc('month', close_date)::date as close_month, "
        "case when is_new_logo then 'New logos' else 'Existing customers' end as segment, "
        "sum(arr)::double, count(*) from marts.fct_opportunities "
        "where is_won and close_date >= ? and close_date < ? group by all order by all",
        [first, add_months(last, 1)],
    ).fetchall()


def queue_age(con: Connection, ctx: Context) -> list[tuple]:
    """age bucket, status, potential subscriptions."""
    bucket = " ".join(
        f"when days_in_queue <= {high} then '{name}'" if high is not None else f"else '{name}'"
        for name, high in QUEUE_AGE_BUCKETS
    )
    return con.execute(
        f"select case {bucket} end as age, status, count(*) "
        "from marts.fct_potential_subscriptions where days_in_queue is not null group by all"
    ).fetchall()


def pipeline_moves(con: Connection, ctx: Context) -> tuple[date, date, list[tuple]] | None:
    """From and to snapshot, and (close month, movement, amount) of the current and the next
    quarter's close months, from the first snapshot of the as-of month (SPEC 4.12)."""
    pair = con.execute(
        "select from_snapshot_date, to_snapshot_date from marts.fct_pipeline_waterfall "
        "where grain = 'month' and from_snapshot_date <= ? "
        "order by from_snapshot_date desc limit 1",
        [ctx.as_of],
    ).fetchone()
    if pair is None:
        return None
    current = quarter_start(ctx.as_of)
    rows = con.execute(
        "select close_month, movement, sum(amount)::double from marts.fct_pipeline_waterfall "
        "where grain = 'month' and from_snapshot_date = ? and to_snapshot_date = ? "
        "and close_month >= ? and close_month < ? group by all",
        [pair[0], pair[1], current, add_months(current, 6)],
    ).fetchall()
    return (pair[0], pair[1], rows) if rows else None


# --- the tables' rows -------------------------------------------------------------------


def forecast_errors(con: Connection, ctx: Context) -> list[tuple]:
    """lead time (0, 7, 14, 30, 60, 90 days), method, mean absolute % error, forecasts,
    over the close months that are over."""
    return con.execute(
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


def month_close(con: Connection, ctx: Context) -> list[tuple]:
    """The latest closed month's figures and every earlier one restated: month, metric,
    reported, restated, difference, frozen as of."""
    return con.execute(
        """
        select month, metric, reported_value, restated_value, difference, frozen_at_as_of
        from marts.fct_month_close
        where month = (select max(month) from marts.fct_month_close) or difference != 0
        order by month desc, metric_order
        """
    ).fetchall()


def restatements(con: Connection, ctx: Context) -> list[tuple]:
    """The records behind restated figures, largest first: month, metric, record type,
    record id, difference, reason."""
    return con.execute(
        f"""
        select month, metric, record_type, record_id, difference, reason
        from marts.fct_restatements
        order by month desc, abs(difference) desc, metric, record_id
        limit {RESTATEMENT_ROWS}
        """
    ).fetchall()
