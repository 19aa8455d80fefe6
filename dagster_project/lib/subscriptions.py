"""Subscription builder: closed-won opportunities to subscriptions, JustOn's rules (SPEC 4.8).

`build_subscriptions` is a pure function over polars frames. Sources (opportunities) are
folded per master account in order of effective date (Start_Date__c, else CloseDate),
then CloseDate, then Id: each source sees the subscriptions the previous sources of its
account produced. The fold is vectorised across accounts: sources are ranked within
their account (k = 0, 1, 2, ...) and step k applies the k-th source of every account at
once with joins and filters, so the Python loop runs over k (tens of steps), never over
rows. A subscription that is not active for its account's current source can never be
touched again, so it is set aside: a step only works on active subscriptions, however
long an account's history. The working state holds integer keys only (ids are spelled
out once, at the end), which keeps every join of the fold cheap.

Decisions where SPEC 4.8 is silent (documented for analysts):

- Use case values are trimmed and compared case-insensitively; a blank value counts as
  empty (automatic use case) and is reported as null in `use_case_requested`.
- A subscription starts on its source's effective date (Start_Date__c, else CloseDate),
  also for NEW; items keep their own start (line ServiceDate first).
- Item end for a recurring line: a whole number of term months N gives
  start + N months - 1 day, clamped to the month end like Salesforce (Jan 31 + 1 month
  = Feb 29). A fractional term (daily or weekly schedules) is converted to days,
  round(term_months * 365 / 12), so 10 daily installments last exactly 10 days (at
  least the start day). A recurring line without a positive term is open-ended
  (evergreen) until it is replaced or upgraded. A one-time line ends on its start.
- Lines of one source that share an order number are versions of one item: taken in
  order of start (then line id), each one replaces the one before from its start.
- An item version that is replaced or cut before it ever started keeps its row (so the
  history shows what was sold) with end_date = start_date - 1 day: an empty service
  period, never active on any day (start <= day <= end is never true), and it does not
  count towards the subscription's latest item end.
- Upgrade cloning: "the item is active" means the version is not such an empty version;
  with the spec's other three tests (order number not among the new lines, not
  excluded, end empty or after the new start). An old item that starts after the new
  subscription's start keeps its own start in the clone (the clone starts at the later
  of the two), so no service is invented before it was sold.
- The old subscription's items are cut after cloning: every version ending on or after
  the new start (or open-ended) ends the day before it; one that starts on or after the
  new start becomes an empty version (see above).
- Ids: subscription_id = 'SUB-' + source opportunity id; subscription_item_id =
  subscription_id + ':' + source line id, also for clones (a line appears at most once
  per subscription, so this is unique and stays short across upgrade chains).
- Build errors found before the fold (the source never takes part in it): no master
  account, neither start nor close date, unknown use case, no lines, lines without
  product. Found during the fold: explicit REORDER with several active subscriptions,
  explicit UPGRADE with none or several. One message per source, the first that applies
  in that order.
- Output order: subscriptions and items in fold order (master account, then the order
  their sources were applied; items by order number, start, line); errors by master
  account and opportunity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

USE_CASES = ("NEW", "REORDER", "UPGRADE")
SUBSCRIPTION_ID_PREFIX = "SUB-"
# Whole-month terms within this tolerance use calendar-month arithmetic (52 * 12/52 = 12).
WHOLE_MONTH_TOLERANCE = 1e-6
DAYS_PER_MONTH = 365 / 12
ONE_DAY = pl.duration(days=1)
KEY = pl.UInt32

SUBSCRIPTION_COLUMNS = (
    "subscription_id",
    "master_account_id",
    "source_opportunity_id",
    "use_case_requested",
    "use_case_applied",
    "status",
    "start_date",
    "end_date",
    "previous_subscription_id",
)
ITEM_COLUMNS = (
    "subscription_item_id",
    "subscription_id",
    "order_no",
    "product_id",
    "quantity",
    "net_unit_price",
    "mrr",
    "start_date",
    "end_date",
    "source_line_item_id",
    "source_opportunity_id",
    "cloned_from_item_id",
    "is_recurring",
)
ERROR_COLUMNS = ("opportunity_id", "master_account_id", "use_case_requested", "message")
SOURCES_BUILT_COLUMNS = (
    "opportunity_id",
    "master_account_id",
    "subscription_id",
    "use_case_requested",
    "use_case_applied",
)

# Working state of the fold. A subscription's key is the key of the source that created it,
# an item version is (subscription, line); status and end date are derived at the end.
_SUB_STATE = {
    "sub_key": KEY,
    "account_key": KEY,
    "subscription_id": pl.String,
    "use_case_applied": pl.String,
    "start_date": pl.Date,
    "previous_sub_key": KEY,
    "is_upgraded": pl.Boolean,
    "upgrade_end_date": pl.Date,
}
_ITEM_STATE = {
    "sub_key": KEY,
    "line_key": KEY,
    "order_key": KEY,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "cloned_from_sub_key": KEY,
    "is_excluded_from_upgrade": pl.Boolean,
}


@dataclass(frozen=True)
class BuildResult:
    """What the builder produced; every source is in exactly one of sources_built/errors."""

    subscriptions: pl.DataFrame  # one row per subscription
    items: pl.DataFrame  # one row per subscription item version
    errors: pl.DataFrame  # one row per source that could not be built
    # One row per built source: the subscription it created or added items to (JustOn's
    # ON_Subscription lookup on the opportunity), with the use case actually applied.
    sources_built: pl.DataFrame


def build_subscriptions(sources: pl.DataFrame, lines: pl.DataFrame, as_of: date) -> BuildResult:
    """Build subscriptions and item versions from closed-won opportunities (SPEC 4.8).

    `sources` has one row per opportunity that passed the build filter (opportunity_id,
    master_account_id, use_case, start_date, close_date, term_months); `lines` has one row
    per opportunity line (line_item_id, opportunity_id, product_id, order_no, quantity,
    net_unit_price, mrr, is_recurring, term_months, service_date,
    is_excluded_from_upgrade). `as_of` only decides Ended versus Active. Same input, same
    output, in a fixed order.
    """
    prepared_sources = _prepare_sources(sources)
    prepared_lines = _prepare_lines(lines, prepared_sources)
    static_errors = _static_errors(prepared_sources, prepared_lines)
    buildable = _rank_within_account(
        prepared_sources.join(
            static_errors.select("opportunity_id"), on="opportunity_id", how="anti"
        )
    )
    line_versions = _item_versions_from_lines(prepared_lines, buildable)

    subs, items, fold_errors, built = _fold(buildable, line_versions)

    sub_ids = subs.select("sub_key", "subscription_id")
    return BuildResult(
        subscriptions=_final_subscriptions(subs, items, buildable, as_of),
        items=_final_items(items, line_versions, sub_ids),
        errors=pl.concat([static_errors, fold_errors])
        .select(ERROR_COLUMNS)
        .sort("master_account_id", "opportunity_id", nulls_last=True),
        sources_built=built.sort("source_key")
        .join(sub_ids, on="sub_key", how="left", maintain_order="left")
        .select(SOURCES_BUILT_COLUMNS),
    )


# --- preparation -------------------------------------------------------------------------


def _blank_to_null(column: str) -> pl.Expr:
    text = pl.col(column).cast(pl.String)
    return pl.when(text.str.strip_chars() == "").then(None).otherwise(text)


def _prepare_sources(sources: pl.DataFrame) -> pl.DataFrame:
    return sources.select(
        pl.col("opportunity_id").cast(pl.String),
        _blank_to_null("master_account_id").alias("master_account_id"),
        _blank_to_null("use_case").alias("use_case_requested"),
        _blank_to_null("use_case").str.strip_chars().str.to_uppercase().alias("use_case_key"),
        pl.col("start_date").cast(pl.Date),
        pl.col("close_date").cast(pl.Date),
    ).with_columns(effective_date=pl.coalesce("start_date", "close_date"))


def _prepare_lines(lines: pl.DataFrame, sources: pl.DataFrame) -> pl.DataFrame:
    return lines.join(sources.select("opportunity_id"), on="opportunity_id", how="semi").select(
        pl.col("line_item_id").cast(pl.String),
        pl.col("opportunity_id").cast(pl.String),
        _blank_to_null("product_id").alias("product_id"),
        # Order number of an item = Order_No__c, else the line Id (SPEC 4.8).
        pl.coalesce(_blank_to_null("order_no"), pl.col("line_item_id").cast(pl.String)).alias(
            "order_no"
        ),
        "quantity",
        "net_unit_price",
        "mrr",
        pl.col("is_recurring").cast(pl.Boolean).fill_null(False),
        pl.col("term_months").cast(pl.Float64),
        pl.col("service_date").cast(pl.Date),
        pl.col("is_excluded_from_upgrade").cast(pl.Boolean).fill_null(False),
    )


def _static_errors(sources: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """Sources that cannot be built whatever the other sources do, with the first reason."""
    line_counts = lines.group_by("opportunity_id").agg(
        line_count=pl.len(), without_product_count=pl.col("product_id").null_count()
    )
    # Name the offending lines (the first five), only for the few sources that have them.
    lines_without_product = (
        lines.filter(pl.col("product_id").is_null())
        .sort("line_item_id")
        .group_by("opportunity_id")
        .agg(first_lines_without_product=pl.col("line_item_id").head(5).str.join(", "))
    )
    checked = (
        sources.join(line_counts, on="opportunity_id", how="left")
        .join(lines_without_product, on="opportunity_id", how="left")
        .with_columns(pl.col("line_count", "without_product_count").fill_null(0))
    )
    message = (
        pl.when(pl.col("master_account_id").is_null())
        .then(pl.lit("The opportunity has no account, so it cannot belong to a subscription."))
        .when(pl.col("effective_date").is_null())
        .then(pl.lit("The opportunity has neither a start date nor a close date."))
        .when(pl.col("use_case_key").is_not_null() & ~pl.col("use_case_key").is_in(USE_CASES))
        .then(
            pl.format(
                "Use case '{}' is unknown: it must be NEW, REORDER, UPGRADE or empty.",
                pl.col("use_case_requested"),
            )
        )
        .when(pl.col("line_count") == 0)
        .then(pl.lit("The opportunity has no lines, so there is nothing to subscribe to."))
        .when(pl.col("without_product_count") > 0)
        .then(
            pl.format(
                "{} line(s) have no product ({}): every line needs a product to become "
                "a subscription item.",
                pl.col("without_product_count"),
                pl.col("first_lines_without_product"),
            )
        )
    )
    return (
        checked.with_columns(message=message)
        .filter(pl.col("message").is_not_null())
        .select(ERROR_COLUMNS)
    )


def _rank_within_account(sources: pl.DataFrame) -> pl.DataFrame:
    """Keys in fold order and the fold position k of each source in its account."""
    ranked = sources.sort(
        "master_account_id", "effective_date", "close_date", "opportunity_id", nulls_last=True
    ).with_columns(
        source_key=pl.int_range(pl.len(), dtype=KEY),
        account_key=pl.col("master_account_id").rle_id().cast(KEY),
    )
    return ranked.with_columns(
        source_rank=pl.col("source_key") - pl.col("source_key").min().over("account_key")
    )


def _add_months(start: pl.Expr, months: pl.Expr) -> pl.Expr:
    """start + months calendar months, clamped to the month end (Jan 31 + 1 = Feb 29)."""
    return start.dt.offset_by(pl.format("{}mo", months))


def _item_end(start: pl.Expr) -> pl.Expr:
    term = pl.col("term_months")
    is_whole = (term - term.round(0)).abs() < WHOLE_MONTH_TOLERANCE
    days = (term * DAYS_PER_MONTH).round(0).cast(pl.Int64)
    recurring_end = (
        pl.when(is_whole)
        .then(_add_months(start, term.round(0).cast(pl.Int64)) - ONE_DAY)
        .otherwise(start + pl.duration(days=days) - ONE_DAY)
    )
    return (
        pl.when(~pl.col("is_recurring"))
        .then(start)
        .when(term.is_null() | (term <= 0))
        .then(pl.lit(None, dtype=pl.Date))
        # A term that rounds to zero days still covers its start day.
        .otherwise(pl.max_horizontal(recurring_end, start))
    )


def _cut_end(cut_start: pl.Expr) -> pl.Expr:
    """End of a version replaced from cut_start: the day before, but never before start-1."""
    return pl.max_horizontal(cut_start - ONE_DAY, pl.col("start_date") - ONE_DAY)


def _in_force_from(cut_start: pl.Expr) -> pl.Expr:
    """The version still runs on or after cut_start (open-ended or ending later)."""
    return pl.col("end_date").is_null() | (pl.col("end_date") >= cut_start)


def _item_versions_from_lines(lines: pl.DataFrame, sources: pl.DataFrame) -> pl.DataFrame:
    """One item version per line of a buildable source, keyed, before it meets the fold."""
    items = (
        lines.join(
            sources.select(
                "opportunity_id",
                "source_key",
                "start_date",
                "close_date",
                "source_rank",
            ),
            on="opportunity_id",
        )
        .with_columns(item_start=pl.coalesce("service_date", "start_date", "close_date"))
        .with_columns(end_date=_item_end(pl.col("item_start")), start_date=pl.col("item_start"))
        .sort("source_key", "order_no", "start_date", "line_item_id")
        .with_columns(
            line_key=pl.int_range(pl.len(), dtype=KEY),
            order_key=pl.col("order_no").rank("dense").cast(KEY),
        )
    )
    # Lines of one source sharing an order number replace each other in start order. The
    # frame is sorted, so the next version is the next row with the same keys.
    same_item_next = (pl.col("source_key") == pl.col("source_key").shift(-1)) & (
        pl.col("order_key") == pl.col("order_key").shift(-1)
    )
    next_start = pl.col("next_start")
    return (
        items.with_columns(next_start=pl.when(same_item_next).then(pl.col("start_date").shift(-1)))
        .with_columns(
            end_date=pl.when(next_start.is_not_null() & _in_force_from(next_start))
            .then(_cut_end(next_start))
            .otherwise("end_date")
        )
        .drop("next_start", "item_start", "close_date", "service_date", "term_months")
    )


# --- the fold ----------------------------------------------------------------------------


def _fold(
    sources: pl.DataFrame, line_versions: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Apply the k-th source of every account, k = 0, 1, ...; returns subs, items, errors, built."""
    sources_by_rank = sources.partition_by("source_rank", as_dict=True)
    lines_by_rank = line_versions.select(
        "source_key",
        "source_rank",
        "line_key",
        "order_key",
        "start_date",
        "end_date",
        "is_excluded_from_upgrade",
    ).partition_by("source_rank", as_dict=True)

    live_subs = pl.DataFrame(schema=_SUB_STATE)
    live_items = pl.DataFrame(schema=_ITEM_STATE)
    finished_subs, finished_items = [live_subs], [live_items]
    errors = [pl.DataFrame(schema=dict.fromkeys(ERROR_COLUMNS, pl.String))]
    built = [pl.DataFrame(schema={"source_key": KEY, "sub_key": KEY, **_built_schema()})]
    for (rank,), step_sources in sorted(sources_by_rank.items()):
        active_keys = _active_subscription_keys(step_sources, live_subs, live_items)
        finished_subs.append(live_subs.join(active_keys, on="sub_key", how="anti"))
        finished_items.append(live_items.join(active_keys, on="sub_key", how="anti"))
        live_subs = live_subs.join(active_keys, on="sub_key", how="semi")
        live_items = live_items.join(active_keys, on="sub_key", how="semi")

        step_lines = lines_by_rank[(rank,)]  # every buildable source has lines
        live_subs, live_items, step_errors, step_built = _fold_step(
            step_sources, step_lines, live_subs, live_items
        )
        errors.append(step_errors)
        built.append(step_built)
    return (
        pl.concat([*finished_subs, live_subs]),
        pl.concat([*finished_items, live_items]),
        pl.concat(errors),
        pl.concat(built),
    )


def _built_schema() -> dict[str, pl.DataType]:
    return {
        "opportunity_id": pl.String(),
        "master_account_id": pl.String(),
        "use_case_requested": pl.String(),
        "use_case_applied": pl.String(),
    }


def _subscription_ends(subs: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """End date per subscription: upgrade end, else latest item end, null if any is open."""
    end = pl.col("end_date")
    item_ends = items.group_by("sub_key").agg(
        has_open_item=end.is_null().any(),
        # Versions replaced before they started cover no day, so they do not extend the end.
        latest_item_end=pl.coalesce(end.filter(end >= pl.col("start_date")).max(), end.max()),
    )
    return subs.join(item_ends, on="sub_key", how="left").with_columns(
        end_date=pl.when(pl.col("is_upgraded"))
        .then(pl.col("upgrade_end_date"))
        .when(pl.col("has_open_item").fill_null(False))
        .then(pl.lit(None, dtype=pl.Date))
        .otherwise(pl.col("latest_item_end"))
    )


def _active_subscription_keys(
    step_sources: pl.DataFrame, subs: pl.DataFrame, items: pl.DataFrame
) -> pl.DataFrame:
    """Subscriptions active for their account's current source (none for accounts without one).

    Active: not Upgraded, end null or on/after the source's effective date. One that is not
    is never touched again: the account's later sources have later effective dates, and
    only an active subscription gets items or an upgrade. So the fold sets it aside, and
    each step works on the active subscriptions alone, however long an account's history.
    """
    return (
        _subscription_ends(subs, items)
        .join(step_sources.select("account_key", "effective_date"), on="account_key")
        .filter(
            ~pl.col("is_upgraded"),
            pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("effective_date")),
        )
        .select("sub_key")
    )


def _fold_step(
    step_sources: pl.DataFrame,
    step_lines: pl.DataFrame,
    active_subs: pl.DataFrame,
    active_items: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Apply one source per account to that account's active subscriptions."""
    active = (
        step_sources.select("source_key", "account_key")
        .join(active_subs.select("account_key", "sub_key", "subscription_id"), on="account_key")
        .group_by("source_key")
        .agg(
            active_count=pl.len(),
            active_sub_key=pl.col("sub_key").min(),
            active_subscription_ids=pl.col("subscription_id").sort().str.join(", "),
        )
    )
    decided = _decide_use_case(step_sources.join(active, on="source_key", how="left"))
    step_errors = decided.filter(pl.col("message").is_not_null()).select(ERROR_COLUMNS)
    built = decided.filter(pl.col("message").is_null()).with_columns(
        sub_key=pl.when(pl.col("use_case_applied") == "REORDER")
        .then(pl.col("active_sub_key"))
        .otherwise(pl.col("source_key"))
    )

    new_items = step_lines.join(
        built.select("source_key", "sub_key", "use_case_applied"), on="source_key"
    )
    upgrades = built.filter(pl.col("use_case_applied") == "UPGRADE").select(
        old_sub_key="active_sub_key", new_sub_key="sub_key", new_start="effective_date"
    )
    clones = _upgrade_clones(upgrades, active_items, new_items)
    items = pl.concat(
        [
            _cut_replaced_and_upgraded(active_items, new_items, upgrades),
            new_items.with_columns(cloned_from_sub_key=pl.lit(None, dtype=KEY))
            .select(list(_ITEM_STATE))
            .cast(_ITEM_STATE),
            clones.select(list(_ITEM_STATE)).cast(_ITEM_STATE),
        ]
    )

    upgraded = active_subs.join(
        upgrades.select("old_sub_key", "new_start"),
        left_on="sub_key",
        right_on="old_sub_key",
        how="left",
    ).with_columns(
        is_upgraded=pl.col("is_upgraded") | pl.col("new_start").is_not_null(),
        upgrade_end_date=pl.coalesce("upgrade_end_date", pl.col("new_start") - ONE_DAY),
    )
    created = built.filter(pl.col("use_case_applied") != "REORDER").select(
        "sub_key",
        "account_key",
        subscription_id=SUBSCRIPTION_ID_PREFIX + pl.col("opportunity_id"),
        use_case_applied="use_case_applied",
        start_date="effective_date",
        previous_sub_key=pl.when(pl.col("use_case_applied") == "UPGRADE").then("active_sub_key"),
        is_upgraded=pl.lit(False),
        upgrade_end_date=pl.lit(None, dtype=pl.Date),
    )
    subs = pl.concat([upgraded.select(list(_SUB_STATE)), created.cast(_SUB_STATE)])
    step_built = built.select("source_key", "sub_key", *_built_schema())
    return subs, items, step_errors, step_built


def _decide_use_case(sources: pl.DataFrame) -> pl.DataFrame:
    """use_case_applied per source, or a message when the requested one cannot be applied."""
    requested = pl.col("use_case_key")
    active_count = pl.col("active_count").fill_null(0)
    several_active = pl.format(
        "Use case {} needs exactly one active subscription, but the account has {} ({}).",
        requested,
        active_count,
        pl.col("active_subscription_ids"),
    )
    return sources.with_columns(
        use_case_applied=pl.when(requested.is_null())
        .then(
            pl.when(active_count != 1)
            .then(pl.lit("NEW"))
            .when(pl.col("start_date").is_null())
            .then(pl.lit("REORDER"))
            .otherwise(pl.lit("UPGRADE"))
        )
        .when((requested == "REORDER") & (active_count == 0))
        .then(pl.lit("NEW"))
        .otherwise(requested),
        message=pl.when(requested.is_in(["REORDER", "UPGRADE"]) & (active_count > 1))
        .then(several_active)
        .when((requested == "UPGRADE") & (active_count == 0))
        .then(
            pl.format(
                "Use case UPGRADE needs an active subscription to upgrade, but the account "
                "has none on {}.",
                pl.col("effective_date"),
            )
        ),
    )


def _upgrade_clones(
    upgrades: pl.DataFrame, active_items: pl.DataFrame, new_items: pl.DataFrame
) -> pl.DataFrame:
    """Items of upgraded subscriptions that move on into the new ones (JustOn's four tests)."""
    end = pl.col("end_date")
    candidates = active_items.join(upgrades, left_on="sub_key", right_on="old_sub_key").filter(
        ~pl.col("is_excluded_from_upgrade"),
        # Active (not a version replaced before it started) and running after the new start.
        end.is_null() | ((end >= pl.col("start_date")) & (end > pl.col("new_start"))),
    )
    already_present = new_items.select(new_sub_key="sub_key", order_key="order_key")
    return candidates.join(
        already_present, on=["new_sub_key", "order_key"], how="anti"
    ).with_columns(
        cloned_from_sub_key=pl.col("sub_key"),
        sub_key=pl.col("new_sub_key"),
        start_date=pl.max_horizontal("start_date", "new_start"),
    )


def _cut_replaced_and_upgraded(
    active_items: pl.DataFrame, new_items: pl.DataFrame, upgrades: pl.DataFrame
) -> pl.DataFrame:
    """End the versions a reorder replaces and the running items of upgraded subscriptions."""
    reorder_starts = (
        new_items.filter(pl.col("use_case_applied") == "REORDER")
        .group_by("sub_key", "order_key")
        .agg(reorder_start=pl.col("start_date").min())
    )
    cut_start = pl.coalesce("reorder_start", "new_start")
    return (
        active_items.join(reorder_starts, on=["sub_key", "order_key"], how="left")
        .join(
            upgrades.select("old_sub_key", "new_start"),
            left_on="sub_key",
            right_on="old_sub_key",
            how="left",
        )
        .with_columns(
            end_date=pl.when(cut_start.is_not_null() & _in_force_from(cut_start))
            .then(_cut_end(cut_start))
            .otherwise("end_date")
        )
        .select(list(_ITEM_STATE))
    )


# --- spelling out the result -------------------------------------------------------------


def _final_subscriptions(
    subs: pl.DataFrame, items: pl.DataFrame, sources: pl.DataFrame, as_of: date
) -> pl.DataFrame:
    status = (
        pl.when(pl.col("is_upgraded"))
        .then(pl.lit("Upgraded"))
        .when(pl.col("end_date") < as_of)
        .then(pl.lit("Ended"))
        .otherwise(pl.lit("Active"))
    )
    creators = sources.select(
        sub_key="source_key",
        master_account_id="master_account_id",
        source_opportunity_id="opportunity_id",
        use_case_requested="use_case_requested",
    )
    previous = subs.select(previous_sub_key="sub_key", previous_subscription_id="subscription_id")
    return (
        _subscription_ends(subs, items)
        .sort("sub_key")
        .join(creators, on="sub_key", how="left", maintain_order="left")
        .join(previous, on="previous_sub_key", how="left", maintain_order="left")
        .with_columns(status=status)
        .select(SUBSCRIPTION_COLUMNS)
    )


def _final_items(
    items: pl.DataFrame, line_versions: pl.DataFrame, sub_ids: pl.DataFrame
) -> pl.DataFrame:
    line_facts = line_versions.select(
        "line_key",
        "order_no",
        "product_id",
        "quantity",
        "net_unit_price",
        "mrr",
        "is_recurring",
        source_line_item_id="line_item_id",
        source_opportunity_id="opportunity_id",
    )
    cloned_from = sub_ids.select(
        cloned_from_sub_key="sub_key", cloned_from_subscription_id="subscription_id"
    )
    return (
        items.sort("sub_key", "order_key", "start_date", "line_key")
        .join(sub_ids, on="sub_key", how="left", maintain_order="left")
        .join(line_facts, on="line_key", how="left", maintain_order="left")
        .join(cloned_from, on="cloned_from_sub_key", how="left", maintain_order="left")
        .with_columns(
            subscription_item_id=pl.col("subscription_id") + ":" + pl.col("source_line_item_id"),
            cloned_from_item_id=pl.col("cloned_from_subscription_id")
            + ":"
            + pl.col("source_line_item_id"),
        )
        .select(ITEM_COLUMNS)
    )
