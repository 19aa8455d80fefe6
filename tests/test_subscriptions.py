"""The subscription builder follows JustOn's rules (SPEC 4.8) on ten-row tables."""

from datetime import date, timedelta

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.lib.subscriptions import BuildResult, build_subscriptions

AS_OF = date(2024, 7, 1)

SOURCE_SCHEMA = {
    "opportunity_id": pl.String,
    "master_account_id": pl.String,
    "use_case": pl.String,
    "start_date": pl.Date,
    "close_date": pl.Date,
    "term_months": pl.Int64,
}
LINE_SCHEMA = {
    "line_item_id": pl.String,
    "opportunity_id": pl.String,
    "product_id": pl.String,
    "order_no": pl.String,
    "quantity": pl.Float64,
    "net_unit_price": pl.Float64,
    "mrr": pl.Float64,
    "is_recurring": pl.Boolean,
    "term_months": pl.Float64,
    "service_date": pl.Date,
    "is_excluded_from_upgrade": pl.Boolean,
}


def source(opportunity_id, close_date, *, start_date=None, use_case=None, account="acc1"):
    return {
        "opportunity_id": opportunity_id,
        "master_account_id": account,
        "use_case": use_case,
        "start_date": start_date,
        "close_date": close_date,
        "term_months": 12,
    }


def line(
    line_item_id,
    opportunity_id,
    *,
    order_no=None,
    product_id="prod-platform",
    term_months=12.0,
    is_recurring=True,
    service_date=None,
    excluded=False,
):
    return {
        "line_item_id": line_item_id,
        "opportunity_id": opportunity_id,
        "product_id": product_id,
        "order_no": order_no,
        "quantity": 1.0,
        "net_unit_price": 100.0,
        "mrr": 100.0 if is_recurring else 0.0,
        "is_recurring": is_recurring,
        "term_months": term_months,
        "service_date": service_date,
        "is_excluded_from_upgrade": excluded,
    }


def build(sources, lines, as_of=AS_OF) -> BuildResult:
    return build_subscriptions(
        pl.DataFrame(sources, schema=SOURCE_SCHEMA),
        pl.DataFrame(lines, schema=LINE_SCHEMA),
        as_of,
    )


def subscription(result: BuildResult, subscription_id: str) -> dict:
    rows = result.subscriptions.filter(pl.col("subscription_id") == subscription_id).to_dicts()
    assert len(rows) == 1, f"{subscription_id}: {rows}"
    return rows[0]


def items_of(result: BuildResult, subscription_id: str) -> dict[str, dict]:
    """Item versions of a subscription by source line id."""
    rows = result.items.filter(pl.col("subscription_id") == subscription_id).to_dicts()
    return {row["source_line_item_id"]: row for row in rows}


def periods(result: BuildResult, subscription_id: str) -> dict[str, tuple]:
    return {
        line_id: (row["start_date"], row["end_date"])
        for line_id, row in items_of(result, subscription_id).items()
    }


def error_message(result: BuildResult, opportunity_id: str) -> str:
    rows = result.errors.filter(pl.col("opportunity_id") == opportunity_id).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]["message"]


# --- use cases ---------------------------------------------------------------------------


def test_new_builds_an_active_subscription_from_the_opportunity():
    result = build([source("o1", date(2024, 1, 15))], [line("l1", "o1")])

    assert subscription(result, "SUB-o1") == {
        "subscription_id": "SUB-o1",
        "master_account_id": "acc1",
        "source_opportunity_id": "o1",
        "use_case_requested": None,
        "use_case_applied": "NEW",
        "status": "Active",
        "start_date": date(2024, 1, 15),
        "end_date": date(2025, 1, 14),
        "previous_subscription_id": None,
    }
    item = items_of(result, "SUB-o1")["l1"]
    assert item["subscription_item_id"] == "SUB-o1:l1"
    assert item["order_no"] == "l1"  # no Order_No__c: the line id
    assert (item["start_date"], item["end_date"]) == (date(2024, 1, 15), date(2025, 1, 14))
    assert item["cloned_from_item_id"] is None
    assert result.errors.is_empty()


def test_automatic_reorder_adds_items_to_the_active_subscription():
    result = build(
        [source("o1", date(2024, 1, 1)), source("o2", date(2024, 3, 1))],
        [line("l1", "o1", order_no="A"), line("l2", "o2", order_no="B")],
    )

    assert result.subscriptions["subscription_id"].to_list() == ["SUB-o1"]
    added = items_of(result, "SUB-o1")["l2"]
    assert added["subscription_item_id"] == "SUB-o1:l2"
    assert added["source_opportunity_id"] == "o2"
    assert (added["start_date"], added["end_date"]) == (date(2024, 3, 1), date(2025, 2, 28))
    assert periods(result, "SUB-o1")["l1"] == (date(2024, 1, 1), date(2024, 12, 31))
    assert subscription(result, "SUB-o1")["end_date"] == date(2025, 2, 28)
    assert result.sources_built.filter(pl.col("opportunity_id") == "o2").row(0, named=True) == {
        "opportunity_id": "o2",
        "master_account_id": "acc1",
        "subscription_id": "SUB-o1",
        "use_case_requested": None,
        "use_case_applied": "REORDER",
    }


def test_reorder_replaces_the_item_with_the_same_order_number_from_its_start():
    result = build(
        [source("o1", date(2024, 1, 1)), source("o2", date(2024, 3, 20), use_case="REORDER")],
        [
            line("l1", "o1", order_no="SO-1"),
            line("l2", "o2", order_no="SO-1", service_date=date(2024, 4, 1)),
        ],
    )

    assert periods(result, "SUB-o1") == {
        "l1": (date(2024, 1, 1), date(2024, 3, 31)),  # the old version ends the day before
        "l2": (date(2024, 4, 1), date(2025, 3, 31)),
    }
    assert result.subscriptions.height == 1


def test_reorder_without_an_active_subscription_is_applied_as_new():
    result = build(
        [
            source("o1", date(2023, 1, 1)),  # ends 2023-12-31, before o2 starts
            source("o2", date(2024, 3, 1), use_case="REORDER"),
        ],
        [line("l1", "o1"), line("l2", "o2")],
    )

    new = subscription(result, "SUB-o2")
    assert (new["use_case_requested"], new["use_case_applied"]) == ("REORDER", "NEW")
    assert new["previous_subscription_id"] is None
    assert subscription(result, "SUB-o1")["status"] == "Ended"
    assert result.errors.is_empty()


def test_automatic_upgrade_clones_exactly_the_items_that_qualify():
    result = build(
        [
            source("o1", date(2024, 1, 1)),
            source("o2", date(2024, 5, 20), start_date=date(2024, 6, 1)),
        ],
        [
            line("l-excluded", "o1", order_no="A", excluded=True),
            line("l-present", "o1", order_no="B"),
            line("l-ended", "o1", order_no="C", term_months=3.0),  # ends 2024-03-31
            line("l-open", "o1", order_no="D", term_months=None),
            line("l-running", "o1", order_no="E", term_months=24.0),
            line("l-new-b", "o2", order_no="B", term_months=24.0),
        ],
    )

    old, new = subscription(result, "SUB-o1"), subscription(result, "SUB-o2")
    assert (new["use_case_applied"], new["previous_subscription_id"]) == ("UPGRADE", "SUB-o1")
    assert (new["start_date"], new["status"]) == (date(2024, 6, 1), "Active")
    assert new["end_date"] is None  # the cloned open-ended item
    assert (old["status"], old["end_date"]) == ("Upgraded", date(2024, 5, 31))

    cloned = {
        row["source_line_item_id"]: row
        for row in items_of(result, "SUB-o2").values()
        if row["cloned_from_item_id"] is not None
    }
    assert sorted(cloned) == ["l-open", "l-running"]
    assert cloned["l-open"]["cloned_from_item_id"] == "SUB-o1:l-open"
    assert cloned["l-open"]["subscription_item_id"] == "SUB-o2:l-open"
    assert (cloned["l-open"]["start_date"], cloned["l-open"]["end_date"]) == (
        date(2024, 6, 1),
        None,
    )
    # A clone keeps the item's own end date.
    assert (cloned["l-running"]["start_date"], cloned["l-running"]["end_date"]) == (
        date(2024, 6, 1),
        date(2025, 12, 31),
    )
    assert periods(result, "SUB-o2")["l-new-b"] == (date(2024, 6, 1), date(2026, 5, 31))
    # Only then is the old subscription cut: running items end the day before the new start.
    assert periods(result, "SUB-o1") == {
        "l-excluded": (date(2024, 1, 1), date(2024, 5, 31)),
        "l-present": (date(2024, 1, 1), date(2024, 5, 31)),
        "l-ended": (date(2024, 1, 1), date(2024, 3, 31)),
        "l-open": (date(2024, 1, 1), date(2024, 5, 31)),
        "l-running": (date(2024, 1, 1), date(2024, 5, 31)),
    }


def test_a_subscription_is_active_through_its_last_day():
    result = build(
        [
            source("o1", date(2024, 1, 1)),  # ends 2024-12-31
            source("o2", date(2024, 12, 31)),  # on the last day: reorder
            source("o3", date(2025, 1, 1), use_case="UPGRADE"),  # o2's item keeps it active
            source("o4", date(2026, 1, 1)),  # after everything ended: new
        ],
        [line("l1", "o1"), line("l2", "o2", term_months=1.0), line("l3", "o3"), line("l4", "o4")],
    )

    assert result.sources_built.select(
        "opportunity_id", "subscription_id", "use_case_applied"
    ).rows() == [
        ("o1", "SUB-o1", "NEW"),
        ("o2", "SUB-o1", "REORDER"),
        ("o3", "SUB-o3", "UPGRADE"),
        ("o4", "SUB-o4", "NEW"),
    ]
    assert subscription(result, "SUB-o1")["end_date"] == date(2024, 12, 31)
    assert subscription(result, "SUB-o3")["previous_subscription_id"] == "SUB-o1"


def test_automatic_use_case_with_two_active_subscriptions_is_new():
    result = build(
        [
            source("o1", date(2024, 1, 1)),
            source("o2", date(2024, 2, 1), use_case="NEW"),
            source("o3", date(2024, 3, 1), start_date=date(2024, 4, 1)),
        ],
        [line("l1", "o1"), line("l2", "o2"), line("l3", "o3")],
    )

    assert result.subscriptions["use_case_applied"].to_list() == ["NEW", "NEW", "NEW"]
    assert result.subscriptions["status"].to_list() == ["Active"] * 3


def test_use_case_is_trimmed_and_case_insensitive_and_blank_means_automatic():
    result = build(
        [
            source("o1", date(2024, 1, 1), use_case=" "),
            source("o2", date(2024, 2, 1), use_case="reorder "),
        ],
        [line("l1", "o1"), line("l2", "o2")],
    )

    only = subscription(result, "SUB-o1")
    assert (only["use_case_requested"], only["use_case_applied"]) == (None, "NEW")
    assert items_of(result, "SUB-o1")["l2"]["source_opportunity_id"] == "o2"


# --- errors ------------------------------------------------------------------------------


def test_explicit_upgrade_without_an_active_subscription_is_an_error():
    result = build(
        [source("o1", date(2024, 1, 1), start_date=date(2024, 2, 1), use_case="UPGRADE")],
        [line("l1", "o1")],
    )

    assert result.subscriptions.is_empty() and result.items.is_empty()
    assert result.errors.to_dicts() == [
        {
            "opportunity_id": "o1",
            "master_account_id": "acc1",
            "use_case_requested": "UPGRADE",
            "message": "Use case UPGRADE needs an active subscription to upgrade, "
            "but the account has none on 2024-02-01.",
        }
    ]


def test_explicit_reorder_with_two_active_subscriptions_is_an_error():
    result = build(
        [
            source("o1", date(2024, 1, 1)),
            source("o2", date(2024, 2, 1), use_case="NEW"),
            source("o3", date(2024, 3, 1), use_case="REORDER"),
            source("o4", date(2024, 4, 1), use_case="UPGRADE"),
        ],
        [line("l1", "o1"), line("l2", "o2"), line("l3", "o3"), line("l4", "o4")],
    )

    assert error_message(result, "o3") == (
        "Use case REORDER needs exactly one active subscription, "
        "but the account has 2 (SUB-o1, SUB-o2)."
    )
    assert error_message(result, "o4").startswith("Use case UPGRADE needs exactly one")
    assert result.subscriptions["subscription_id"].to_list() == ["SUB-o1", "SUB-o2"]
    assert set(result.items["source_opportunity_id"]) == {"o1", "o2"}


def test_unknown_use_case_is_an_error_and_the_next_source_still_builds():
    result = build(
        [source("o1", date(2024, 1, 1), use_case="RENEWAL"), source("o2", date(2024, 2, 1))],
        [line("l1", "o1"), line("l2", "o2")],
    )

    assert error_message(result, "o1") == (
        "Use case 'RENEWAL' is unknown: it must be NEW, REORDER, UPGRADE or empty."
    )
    assert result.errors["use_case_requested"].to_list() == ["RENEWAL"]
    assert subscription(result, "SUB-o2")["use_case_applied"] == "NEW"


def test_a_line_without_product_fails_the_whole_source():
    result = build(
        [source("o1", date(2024, 1, 1))],
        [line("l1", "o1"), line("l2", "o1", product_id=None)],
    )

    assert error_message(result, "o1") == (
        "1 line(s) have no product (l2): every line needs a product to become a subscription item."
    )
    assert result.subscriptions.is_empty() and result.items.is_empty()


def test_a_source_without_lines_is_an_error():
    result = build([source("o1", date(2024, 1, 1))], [])

    assert error_message(result, "o1") == (
        "The opportunity has no lines, so there is nothing to subscribe to."
    )


# --- fold, dates, status -----------------------------------------------------------------


def test_sources_fold_in_order_of_effective_date_not_input_order():
    result = build(
        [
            source("o-late", date(2024, 3, 1)),
            # Closes later, but its start date puts it first.
            source("o-early", date(2024, 5, 1), start_date=date(2024, 1, 10)),
        ],
        [line("l-late", "o-late"), line("l-early", "o-early")],
    )

    assert result.subscriptions["subscription_id"].to_list() == ["SUB-o-early"]
    assert subscription(result, "SUB-o-early")["use_case_applied"] == "NEW"
    assert items_of(result, "SUB-o-early")["l-late"]["source_opportunity_id"] == "o-late"


def test_each_account_folds_on_its_own():
    result = build(
        [
            source("o1", date(2024, 1, 1), account="acc1"),
            source("o2", date(2024, 2, 1), account="acc2"),
        ],
        [line("l1", "o1"), line("l2", "o2")],
    )

    assert result.subscriptions.select("subscription_id", "master_account_id").rows() == [
        ("SUB-o1", "acc1"),
        ("SUB-o2", "acc2"),
    ]


def test_status_is_ended_when_the_end_date_is_before_as_of():
    result = build([source("o1", date(2023, 1, 1))], [line("l1", "o1")], as_of=date(2024, 1, 1))
    on_last_day = build([source("o1", date(2023, 1, 1))], [line("l1", "o1")], date(2023, 12, 31))

    assert subscription(result, "SUB-o1")["end_date"] == date(2023, 12, 31)
    assert subscription(result, "SUB-o1")["status"] == "Ended"
    assert subscription(on_last_day, "SUB-o1")["status"] == "Active"


def test_subscription_end_is_null_while_an_item_is_open_ended():
    result = build(
        [source("o1", date(2020, 1, 1))],
        [line("l1", "o1"), line("l2", "o1", term_months=None)],
    )

    assert subscription(result, "SUB-o1")["end_date"] is None
    assert subscription(result, "SUB-o1")["status"] == "Active"


def test_item_dates_follow_service_date_calendar_months_days_and_one_time_lines():
    result = build(
        [source("o1", date(2024, 1, 5), start_date=date(2024, 1, 31))],
        [
            line("l-month", "o1", term_months=1.0),
            line("l-service", "o1", service_date=date(2024, 2, 10), term_months=12.0),
            line("l-daily", "o1", term_months=10 * 12 / 365),  # ten daily installments
            line("l-once", "o1", is_recurring=False, term_months=None),
        ],
    )

    assert periods(result, "SUB-o1") == {
        "l-month": (date(2024, 1, 31), date(2024, 2, 28)),  # Jan 31 + 1 month = Feb 29, -1
        "l-service": (date(2024, 2, 10), date(2025, 2, 9)),
        "l-daily": (date(2024, 1, 31), date(2024, 2, 9)),
        "l-once": (date(2024, 1, 31), date(2024, 1, 31)),
    }


def test_lines_of_one_source_with_the_same_order_number_are_successive_versions():
    result = build(
        [source("o1", date(2024, 1, 1))],
        [
            line("l2", "o1", order_no="A", service_date=date(2024, 7, 1)),
            line("l1", "o1", order_no="A"),
        ],
    )

    assert periods(result, "SUB-o1") == {
        "l1": (date(2024, 1, 1), date(2024, 6, 30)),
        "l2": (date(2024, 7, 1), date(2025, 6, 30)),
    }


def test_a_version_replaced_before_it_started_keeps_its_row_as_an_empty_period():
    result = build(
        [source("o1", date(2024, 1, 1)), source("o2", date(2024, 3, 1))],
        [
            line("l1", "o1", order_no="A", service_date=date(2024, 9, 1)),
            line("l2", "o2", order_no="A", term_months=1.0),
        ],
    )

    assert periods(result, "SUB-o1") == {
        "l1": (date(2024, 9, 1), date(2024, 8, 31)),  # end = start - 1: never in force
        "l2": (date(2024, 3, 1), date(2024, 3, 31)),
    }
    # The empty version does not stretch the subscription.
    assert subscription(result, "SUB-o1")["end_date"] == date(2024, 3, 31)


def test_an_upgrade_clone_of_a_future_item_keeps_the_item_start():
    result = build(
        [
            source("o1", date(2024, 1, 1)),
            source("o2", date(2024, 2, 1), start_date=date(2024, 3, 1)),
        ],
        [
            line("l1", "o1", order_no="A"),
            line("l-future", "o1", order_no="B", service_date=date(2024, 5, 1)),
            line("l2", "o2", order_no="A"),
        ],
    )

    clone = items_of(result, "SUB-o2")["l-future"]
    assert (clone["start_date"], clone["end_date"]) == (date(2024, 5, 1), date(2025, 4, 30))
    assert clone["cloned_from_item_id"] == "SUB-o1:l-future"
    assert periods(result, "SUB-o1")["l-future"] == (date(2024, 5, 1), date(2024, 4, 30))


# --- properties --------------------------------------------------------------------------

BASE_DAY = date(2024, 1, 1)
day_offsets = st.integers(min_value=0, max_value=400)


@st.composite
def accounts_with_sources(draw):
    """Random small source sequences for one to three accounts, with their lines."""
    sources, lines = [], []
    for account in range(draw(st.integers(1, 3))):
        for _ in range(draw(st.integers(1, 5))):
            opportunity_id = f"o{len(sources)}"
            start = draw(st.none() | day_offsets)
            sources.append(
                source(
                    opportunity_id,
                    BASE_DAY + timedelta(days=draw(day_offsets)),
                    start_date=None if start is None else BASE_DAY + timedelta(days=start),
                    use_case=draw(
                        st.sampled_from([None] * 8 + ["NEW", "REORDER", "UPGRADE", "UPGRADE", "X"])
                    ),
                    account=f"acc{account}",
                )
            )
            # Mostly buildable sources, so that the fold itself gets exercised.
            for _ in range(draw(st.sampled_from([0, 1, 1, 2, 2, 2, 3, 3, 3, 3]))):
                service = draw(st.none() | day_offsets)
                lines.append(
                    line(
                        f"l{len(lines)}",
                        opportunity_id,
                        order_no=draw(st.sampled_from(["A", "B", "C", None])),
                        product_id=draw(st.sampled_from(["p1"] * 15 + [None])),
                        term_months=draw(st.sampled_from([None, 1.0, 3.0, 12.0, 0.5])),
                        is_recurring=draw(st.booleans()),
                        service_date=None if service is None else BASE_DAY + timedelta(service),
                        excluded=draw(st.booleans()),
                    )
                )
    return sources, lines


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(accounts_with_sources(), st.randoms(use_true_random=False))
def test_builder_invariants(generated, random):
    sources, lines = generated
    result = build(sources, lines)

    # (1) Versions of one item never overlap; an empty version (end < start) covers no day.
    in_force = result.items.filter(
        pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("start_date"))
    ).sort("subscription_id", "order_no", "start_date")
    for (_, _), versions in in_force.group_by("subscription_id", "order_no"):
        spans = versions.sort("start_date").select("start_date", "end_date").rows()
        for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False):
            assert end is not None and end < next_start, spans

    # (2) Every source is either built or an error, never both.
    created = set(result.subscriptions["source_opportunity_id"])
    added = set(
        result.items.filter(pl.col("cloned_from_item_id").is_null())["source_opportunity_id"]
    )
    built = created | added
    errored = set(result.errors["opportunity_id"])
    assert built.isdisjoint(errored)
    assert built | errored == {s["opportunity_id"] for s in sources}
    assert set(result.sources_built["opportunity_id"]) == built
    assert result.sources_built["opportunity_id"].is_unique().all()
    assert result.errors["opportunity_id"].is_unique().all()

    # (3) An upgraded subscription ends the day before its successor starts.
    by_id = {row["subscription_id"]: row for row in result.subscriptions.to_dicts()}
    for row in by_id.values():
        if row["previous_subscription_id"] is not None:
            previous = by_id[row["previous_subscription_id"]]
            assert previous["status"] == "Upgraded"
            assert previous["end_date"] == row["start_date"] - timedelta(days=1)
    # ...and none of its items runs past that end.
    for row in in_force.to_dicts():
        subscription_row = by_id[row["subscription_id"]]
        if subscription_row["status"] == "Upgraded":
            assert row["end_date"] is not None
            assert row["end_date"] <= subscription_row["end_date"]

    assert result.items["subscription_item_id"].is_unique().all()

    # Same input in another row order, same output.
    random.shuffle(sources)
    random.shuffle(lines)
    again = build(sources, lines)
    for name in ("subscriptions", "items", "errors", "sources_built"):
        assert getattr(again, name).equals(getattr(result, name)), name
