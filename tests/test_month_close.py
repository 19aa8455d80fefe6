"""Month close, as reported vs restated (SPEC 4.12), across two real builds.

The demo build (as of 2026-11-16) freezes every month up to October 2026 (October 31 + 5
days <= November 16). A later snapshot then deletes one won October deal and raises the
amount of another; the next build, on a copy of the published demo warehouse, must keep
October as reported and list both deals among the restatements.
"""

import csv
import io
import shutil
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from dagster_project.build.run import DEMO_LANDING, run_build

LATEST = sorted(p for p in DEMO_LANDING.iterdir() if p.is_dir())[-1]
NEXT_DAY = "2026-11-17"
OCTOBER = date(2026, 10, 1)
RAISE = Decimal("1000.00")
REMOVED = "subscription item no longer built (its source deal was deleted or changed)"


def rows(con, sql, params=()):
    return con.execute(sql, list(params)).fetchall()


def rewrite_opportunities(path, deleted: str, raised: str) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, records = reader.fieldnames, list(reader)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for record in records:
        if record["Id"] == deleted:
            continue
        if record["Id"] == raised:
            record["Amount"] = f"{Decimal(record['Amount']) + RAISE:.2f}"
        writer.writerow(record)
    path.write_text(out.getvalue(), encoding="utf-8")


@pytest.fixture(scope="module")
def restated(demo_build, tmp_path_factory):
    """The demo warehouse after a snapshot that deletes and changes won October deals."""
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as con:
        october_won = rows(
            con,
            "select opportunity_id, amount, mrr, is_new_logo from marts.fct_opportunities "
            "where is_won and close_date between ? and ? and currency_iso_code = 'USD' "
            "order by amount desc, opportunity_id",
            [OCTOBER, date(2026, 10, 31)],
        )
        reported = {
            (m, metric): (value, frozen)
            for m, metric, value, frozen in rows(
                con,
                "select month, metric, reported_value, frozen_at_as_of from marts.fct_month_close",
            )
        }
        deleted, raised = october_won[0], october_won[1]
        # The frozen contributions of the deleted deal's subscription items.
        deleted_items = [
            (m, metric, item, -value, REMOVED)
            for m, metric, item, value in rows(
                con,
                "select f.month, f.metric, f.record_id, f.value "
                "from intermediate.int_month_close_frozen as f "
                "inner join marts.fct_subscription_items as i "
                "on f.record_type = 'subscription_item' and f.record_id = i.subscription_item_id "
                "where i.source_opportunity_id = ? and f.value != 0 order by all",
                [october_won[0][0]],
            )
        ]
    tmp = tmp_path_factory.mktemp("month_close")
    warehouse = tmp / "warehouse.duckdb"
    shutil.copyfile(demo_build.warehouse, warehouse)
    landing = tmp / "landing"
    shutil.copytree(LATEST, landing / NEXT_DAY)
    rewrite_opportunities(landing / NEXT_DAY / "Opportunity.csv", deleted[0], raised[0])
    run_build(landing, warehouse)
    return warehouse, reported, deleted, raised, deleted_items


def test_demo_freezes_every_month_up_to_october(demo_db):
    months = rows(
        demo_db,
        "select max(month), count(distinct month), count(distinct metric), "
        "min(frozen_at_as_of), max(frozen_at_as_of), sum(abs(difference)) "
        "from marts.fct_month_close",
    )[0]
    assert months[0] == OCTOBER and months[2] == 10
    assert months[3] == months[4] == date(2026, 11, 16)
    assert months[5] == 0  # nothing restated on the build that froze them
    assert rows(demo_db, "select count(*) from marts.fct_restatements")[0][0] == 0
    # Opening and closing MRR are fct_mrr_monthly's, month by month (SPEC 4.9).
    mismatches = rows(
        demo_db,
        """
        select c.month, c.metric
        from marts.fct_month_close as c
        inner join (
            select month, sum(opening_mrr) as opening_mrr, sum(closing_mrr) as closing_mrr
            from marts.fct_mrr_monthly group by month
        ) as m on c.month = m.month
        where (c.metric = 'opening_mrr' and c.restated_value != m.opening_mrr)
           or (c.metric = 'closing_mrr' and c.restated_value != m.closing_mrr)
        """,
    )
    assert mismatches == []


def test_reported_figures_stay_frozen_in_a_later_build(restated):
    warehouse, reported, *_ = restated
    with duckdb.connect(str(warehouse), read_only=True) as con:
        later = {
            (m, metric): (value, frozen)
            for m, metric, value, frozen in rows(
                con,
                "select month, metric, reported_value, frozen_at_as_of from marts.fct_month_close",
            )
        }
    assert later == reported


def test_restatements_list_the_deleted_and_the_changed_deal(restated):
    warehouse, reported, deleted, raised, deleted_items = restated
    with duckdb.connect(str(warehouse), read_only=True) as con:
        bookings = rows(
            con,
            "select reported_value, restated_value, difference from marts.fct_month_close "
            "where month = ? and metric = 'won_bookings_amount'",
            [OCTOBER],
        )[0]
        assert bookings[0] == reported[(OCTOBER, "won_bookings_amount")][0]
        assert bookings[2] == -deleted[1] + RAISE
        listed = {
            (metric, record_id): (difference, reason)
            for metric, record_id, difference, reason in rows(
                con,
                "select metric, record_id, difference, reason from marts.fct_restatements "
                "where month = ? and record_type = 'opportunity'",
                [OCTOBER],
            )
        }
        assert listed[("won_bookings_amount", deleted[0])] == (
            -deleted[1],
            "deleted from the CRM after the close",
        )
        assert listed[("won_bookings_amount", raised[0])] == (
            RAISE,
            "amount changed after the close",
        )
        assert listed[("won_bookings_mrr", deleted[0])][0] == -deleted[2]
        if deleted[3]:
            assert listed[("new_logo_count", deleted[0])][0] == -1
        # Every difference of the month close is explained, to the cent.
        unexplained = rows(
            con,
            """
            select c.month, c.metric, c.difference, coalesce(r.difference, 0)
            from marts.fct_month_close as c
            left join (
                select month, metric, sum(difference) as difference
                from marts.fct_restatements group by month, metric
            ) as r on c.month = r.month and c.metric = r.metric
            where c.difference != coalesce(r.difference, 0)
            """,
        )
        assert unexplained == []
        # The deleted deal's subscription items no longer count where they were frozen.
        gone = rows(
            con,
            "select month, metric, record_id, difference, reason from marts.fct_restatements "
            "where record_type = 'subscription_item' and reason like 'subscription item no "
            "longer built%' order by all",
        )
    assert sorted(gone) == sorted(deleted_items)
