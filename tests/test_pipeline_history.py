"""The pipeline's history on the demo (SPEC 4.12): waterfall, forecast accuracy, month close.

Figures are checked against independent facts of the same warehouse: the current pipeline
and won deals of fct_opportunities (the latest snapshot), not the models' own formulas.
"""

import pytest

# SPEC section 5: the marts of 4.12 and their required columns (more are welcome).
SPEC_MARTS = {
    "fct_pipeline_waterfall": [
        "grain", "from_snapshot_date", "to_snapshot_date", "close_month", "forecast_category",
        "owner_id", "movement", "opportunity_count", "amount", "mrr",
    ],
    "fct_forecast_accuracy": [
        "snapshot_date", "close_month", "days_before_month_end", "method", "forecast_amount",
        "forecast_mrr", "actual_amount", "actual_mrr", "error_amount", "abs_pct_error",
        "is_month_closed",
    ],
    "fct_month_close": [
        "month", "metric", "reported_value", "restated_value", "difference", "frozen_at_as_of",
    ],
    "fct_restatements": [
        "month", "metric", "record_type", "record_id", "reported_value", "restated_value",
        "reason",
    ],
    # The summary per owner and lead time (docs/domain-rules.md).
    "fct_forecast_accuracy_by_owner": [
        "owner_id", "method", "lead_time_bucket", "observations", "mean_abs_pct_error",
    ],
}  # fmt: skip


@pytest.mark.parametrize("mart", sorted(SPEC_MARTS))
def test_pipeline_history_marts_have_the_spec_columns(demo_db, mart):
    columns = [
        r[0]
        for r in demo_db.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = ? order by ordinal_position",
            [mart],
        ).fetchall()
    ]
    assert set(SPEC_MARTS[mart]) <= set(columns), columns


def test_waterfall_closes_at_the_current_pipeline(demo_db):
    """The last snapshot pair closes, per close month, at the open pipeline of
    fct_opportunities (the latest snapshot), in amount and MRR and count."""
    mismatches = demo_db.execute(
        """
        with closing as (
            select close_month, sum(amount) as amount, sum(mrr) as mrr,
                   sum(opportunity_count) as opportunities
            from marts.fct_pipeline_waterfall
            where grain = 'snapshot' and movement = 'closing'
              and to_snapshot_date = (
                  select max(to_snapshot_date) from marts.fct_pipeline_waterfall
              )
            group by close_month
        ),
        pipeline as (
            select cast(date_trunc('month', close_date) as date) as close_month,
                   sum(amount) as amount, sum(mrr) as mrr, count(*) as opportunities
            from marts.fct_opportunities where not is_closed
            group by 1
        )
        select *
        from closing full outer join pipeline using (close_month)
        where closing.amount is distinct from pipeline.amount
           or closing.mrr is distinct from pipeline.mrr
           or closing.opportunities is distinct from pipeline.opportunities
        """
    ).fetchall()
    assert mismatches == []


def test_waterfall_adds_up_for_every_grain(demo_db):
    totals = demo_db.execute(
        """
        select grain, count(distinct from_snapshot_date),
               sum(case when movement = 'closing' then -amount else amount end),
               sum(case when movement = 'closing' then -mrr else mrr end)
        from marts.fct_pipeline_waterfall group by grain order by grain
        """
    ).fetchall()
    # Four snapshots: three consecutive pairs; one week (Fri 13 to Mon 16) and one month.
    assert [(g, n) for g, n, _, _ in totals] == [("month", 1), ("snapshot", 3), ("week", 1)]
    assert all(amount == 0 and mrr == 0 for _, _, amount, mrr in totals)


def test_forecast_of_the_latest_snapshot_is_the_current_pipeline(demo_db):
    """At the latest snapshot, per close month: pipeline = won + open but Omitted, commit =
    won + Commit; the actual = won, from fct_opportunities."""
    mismatches = demo_db.execute(
        """
        with latest as (
            select close_month, method, forecast_amount, actual_amount
            from marts.fct_forecast_accuracy
            where snapshot_date = (select max(snapshot_date) from marts.fct_forecast_accuracy)
              and method in ('commit', 'pipeline')
        ),
        opportunities as (
            select cast(date_trunc('month', close_date) as date) as close_month,
                   sum(case when is_won then amount else 0 end) as won,
                   sum(case when not is_closed and forecast_category != 'Omitted'
                            then amount else 0 end) as open_pipeline,
                   sum(case when not is_closed and forecast_category in ('Commit', 'Forecast')
                            then amount else 0 end) as open_commit
            from marts.fct_opportunities group by 1
        )
        select l.*, o.*
        from latest as l
        inner join opportunities as o using (close_month)
        where l.actual_amount != o.won
           or l.forecast_amount != o.won + case l.method when 'commit' then o.open_commit
                                                else o.open_pipeline end
        """
    ).fetchall()
    assert mismatches == []
    months = demo_db.execute(
        "select count(distinct close_month), bool_or(is_month_closed), min(days_before_month_end) "
        "from marts.fct_forecast_accuracy"
    ).fetchone()
    # The demo's snapshots are all in November 2026: nothing it forecasts has closed yet.
    assert months[0] > 3 and months[1] is False and months[2] == 14


def test_demo_shows_every_movement_between_snapshots(demo_db):
    """The generator moves deals day to day (synthetic_crm/lifecycle.py): over the demo's
    three snapshot pairs every movement shows, the counts read from a real build."""
    counts = dict(
        demo_db.execute(
            "select movement, sum(opportunity_count)::integer from marts.fct_pipeline_waterfall "
            "where grain = 'snapshot' group by movement"
        ).fetchall()
    )
    assert counts == {
        "opening": 147, "created": 4, "moved_in": 2, "reopened": 1, "increased": 1,
        "decreased": 1, "moved_out": 2, "won": 3, "lost": 3, "deleted": 3, "closing": 143,
    }  # fmt: skip
    # 147 + 4 + 2 + 1 - 2 - 3 - 3 - 3 = 143 deals; the amounts reconcile to the cent.
    assert (
        demo_db.execute(
            "select sum(case when movement = 'closing' then -amount else amount end) "
            "from marts.fct_pipeline_waterfall where grain = 'snapshot'"
        ).fetchone()[0]
        == 0
    )
