"""Great Expectations suites of the warehouse, and the set-based SQL that feeds them (SPEC 8).

GX 1.x validates DataFrames (its SQL datasource does not work on DuckDB), and a DataFrame
of a 200M-row schedule mart would not fit in memory. So every rule has two halves:

- SQL that reduces the table, set-based in DuckDB, to a bounded frame of its *worst* rows:
  per key or per line aggregates, ordered by how badly they break the rule, `limit n`;
- a GX suite that judges that frame.

Because the worst rows come first, the verdict is exact at any scale (when the worst row
passes, every row does) while GX never sees more than `FRAME_ROWS` rows. On the demo most
frames are the whole table.

Plain Python: no Dagster import. great_expectations is imported on first use (5-8 s).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dagster_project.lib.crm_schema import OBJECTS, CrmObject
from dagster_project.lib.raw_store import versions_table

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations import ExpectationSuite

# Rows GX validates per rule: enough for every example a person reads, bounded at any scale.
FRAME_ROWS = 2_000
# Failing rows quoted in a failure summary, per expectation.
EXAMPLES = 3

# The snapshot the marts call current (dbt's current_snapshot_date()): the latest one on or
# before the build's as-of date. Raw checks run before any model (they block the models),
# so the as-of comes from the build's checked settings, set on the connection as a value
# (AS_OF_VARIABLE, null = the latest snapshot; see set_as_of).
AS_OF_VARIABLE = "recurwise_as_of_date"
LATEST_SNAPSHOT = (
    "(select max(snapshot_date) from raw.snapshots "
    f"where snapshot_date <= coalesce(getvariable('{AS_OF_VARIABLE}'), snapshot_date))"
)


# --- validating a frame -----------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """The verdict of one suite on one frame, with a summary a person can act on."""

    suite_name: str
    success: bool
    rows_validated: int
    expectations: int
    failures: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        if self.success:
            return f"{self.expectations} expectations passed on {self.rows_validated} rows"
        return "; ".join(self.failures)


def _gx():
    """great_expectations and its expectations module, imported once (it costs seconds)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx, gxe


# The engine may be prepared by a background thread (preload) while a check asks for it.
_engine_lock = threading.RLock()
_engine: dict[str, Any] = {}


def _context():
    """One ephemeral GX context per process: nothing is written to disk."""
    with _engine_lock:
        if "context" not in _engine:
            gx, _ = _gx()
            from great_expectations.data_context.types.base import ProgressBarsConfig

            context = gx.get_context(mode="ephemeral")
            # Progress bars would write to the build's console for every validation.
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            _engine["context"] = context
        return _engine["context"]


def _batch_definition():
    """A whole-dataframe batch definition of a pandas datasource, made once per process."""
    with _engine_lock:
        if "batch_definition" not in _engine:
            _engine["batch_definition"] = (
                _context()
                .data_sources.add_pandas("recurwise_frames")
                .add_dataframe_asset("frame")
                .add_batch_definition_whole_dataframe("whole_frame")
            )
        return _engine["batch_definition"]


def preload() -> None:
    """Import Great Expectations and set up its context now (5-8 s), e.g. in a thread."""
    _batch_definition()


def _to_pandas(frame: Any) -> pd.DataFrame:
    # polars frames (and anything else with to_pandas) go in as pandas (STACK.md).
    return frame if type(frame).__module__.startswith("pandas") else frame.to_pandas()


def validate_frame(
    frame: Any,
    suite: ExpectationSuite,
    index_columns: Sequence[str] = (),
    frame_limit: int | None = None,
) -> Outcome:
    """Validate a pandas or polars frame against `suite`.

    Failing rows are named by `index_columns` in the summary; `frame_limit` is the row
    bound the frame was cut at, if any (a full frame then reports "at least n" failures).
    """
    started = time.monotonic()
    data = _to_pandas(frame)
    index_columns = [c for c in index_columns if c in data.columns]
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 20}
    if index_columns:
        result_format["unexpected_index_column_names"] = index_columns
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": data})
    result = batch.validate(suite, result_format=result_format)
    truncated = frame_limit is not None and len(data) >= frame_limit
    failures = tuple(
        _describe_failure(r, data, index_columns, truncated)
        for r in result.results
        if not r.success
    )
    return Outcome(
        suite_name=suite.name,
        success=bool(result.success),
        rows_validated=len(data),
        expectations=len(result.results),
        failures=failures,
        seconds=round(time.monotonic() - started, 3),
    )


def _describe_failure(
    result, data: pd.DataFrame, index_columns: Sequence[str], truncated: bool
) -> str:
    config = result.expectation_config
    what = config.description or f"{config.type}({_kwargs_text(config.kwargs)})"
    info = result.exception_info or {}
    if info.get("raised_exception"):
        return f"{what}: could not be evaluated ({info.get('exception_message')})"
    details = result.result or {}
    if "unexpected_count" not in details:
        # Table-level expectation: quote the frame's first rows, they are the offenders.
        observed = details.get("observed_value")
        at_least = "at least " if truncated else ""
        rows = _rows_text(data.head(EXAMPLES).to_dict("records"), index_columns)
        return f"{what}: {at_least}{observed} found" + (f", e.g. {rows}" if rows else "")
    count, total = details["unexpected_count"], details.get("element_count", len(data))
    # Worst rows come first: only a frame failing to its last row may hide more failures.
    at_least = "at least " if truncated and count >= len(data) else ""
    examples = details.get("partial_unexpected_index_list") or []
    if not all(isinstance(e, dict) for e in examples):  # plain row numbers: no index columns
        examples = [{"value": v} for v in details.get("partial_unexpected_list", [])]
    # The row's key first, then the values that failed.
    examples = [{**{c: e[c] for c in index_columns if c in e}, **e} for e in examples[:EXAMPLES]]
    rows = _rows_text(examples, None)
    return f"{what}: {at_least}{count} of {total} rows fail" + (f", e.g. {rows}" if rows else "")


def _kwargs_text(kwargs: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "batch_id")


def _text(value: Any) -> str:
    try:
        missing = value is None or bool(value != value)  # NaN and NaT differ from themselves
    except (TypeError, ValueError):
        missing = True  # pandas.NA has no truth value
    if missing:
        return "null"
    if hasattr(value, "normalize") and value == value.normalize():
        return str(value.date())  # a date that pandas made a midnight timestamp
    return str(value)


def _rows_text(rows: list[dict], columns: Sequence[str] | None) -> str:

    return " | ".join(
        ", ".join(f"{k}={_text(v)}" for k, v in row.items() if columns is None or k in columns)
        for row in rows
    )


# --- suites -------------------------------------------------------------------------------


def _suite(name: str, expectations: list) -> ExpectationSuite:
    gx, _ = _gx()
    _context()  # a suite needs an active context
    suite = gx.ExpectationSuite(name=name)
    for expectation in expectations:
        suite.add_expectation(expectation)
    return suite


def raw_object_suite(obj: CrmObject) -> ExpectationSuite:
    """One CRM object's rows: required columns present and filled, Ids unique, picklists
    within their values (SPEC 2). Ingest rejects such rows; this proves raw holds none."""
    _, gxe = _gx()
    expectations: list = []
    for name in obj.required_fields:
        expectations.append(
            gxe.ExpectColumnToExist(column=name, description=f"column {name} exists")
        )
        expectations.append(
            gxe.ExpectColumnValuesToNotBeNull(
                column=name, description=f"required field {name} is filled"
            )
        )
    if obj.key:
        expectations.append(
            gxe.ExpectColumnValuesToBeUnique(
                column=obj.key, description=f"{obj.key} is unique within the snapshot"
            )
        )
    for f in obj.fields:
        if f.allowed:
            expectations.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=f.name,
                    value_set=list(f.allowed),
                    description=f"{f.name} is one of {', '.join(f.allowed)}",
                )
            )
    return _suite(f"raw.{obj.table}", expectations)


def no_rows_suite(name: str, what: str) -> ExpectationSuite:
    """The frame is empty; `what` names, in plural words, what its rows would be."""
    _, gxe = _gx()
    return _suite(name, [gxe.ExpectTableRowCountToEqual(value=0, description=what)])


def zero_suite(name: str, columns: dict[str, str]) -> ExpectationSuite:
    """Every listed column (a difference, an excess) is exactly 0; nulls are failures too."""
    _, gxe = _gx()
    expectations: list = []
    for column, what in columns.items():
        expectations.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=column, min_value=0, max_value=0, description=what
            )
        )
        expectations.append(
            gxe.ExpectColumnValuesToNotBeNull(column=column, description=f"{what} (not null)")
        )
    return _suite(name, expectations)


def at_least_suite(name: str, minimums: dict[str, tuple[float, str]]) -> ExpectationSuite:
    """Each column is at least its minimum (nulls are not judged)."""
    _, gxe = _gx()
    return _suite(
        name,
        [
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=minimum, description=what)
            for column, (minimum, what) in minimums.items()
        ],
    )


def unique_key_suite(
    name: str, key_columns: Sequence[str], keys_not_null: bool
) -> ExpectationSuite:
    """Frame: one row per key value with `rows_per_key`; each key has exactly one row."""
    _, gxe = _gx()
    key = ", ".join(key_columns)
    expectations: list = [
        gxe.ExpectColumnValuesToBeBetween(
            column="rows_per_key",
            min_value=1,
            max_value=1,
            description=f"one row per {key} (duplicate keys)",
        )
    ]
    if keys_not_null:
        expectations += [
            gxe.ExpectColumnValuesToNotBeNull(column=c, description=f"key {c} is filled")
            for c in key_columns
        ]
    return _suite(name, expectations)


def within_tolerance_suite(name: str, pairs: dict[str, tuple[str, str]]) -> ExpectationSuite:
    """For each (difference column → (tolerance column, words)): |difference| ≤ tolerance."""
    _, gxe = _gx()
    return _suite(
        name,
        [
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=tolerance,
                column_B=difference,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                description=what,
            )
            for difference, (tolerance, what) in pairs.items()
        ],
    )


# --- rules: SQL to a bounded frame + the suite judging it ---------------------------------


@dataclass(frozen=True)
class Rule:
    """One check: `sql` reduces `table` to a frame (worst rows first, `{limit}` rows at
    most) that `suite()` judges. `blocking`: a failure means a wrong number for finance."""

    asset: tuple[str, str]  # (schema, table) = the Dagster asset key
    name: str
    description: str
    sql: str
    suite: Callable[[], ExpectationSuite]
    index_columns: tuple[str, ...]
    blocking: bool = True
    # Other tables the SQL reads: the check must run after this run has built them.
    reads: tuple[tuple[str, str], ...] = ()

    @property
    def table(self) -> str:
        return ".".join(self.asset)

    def frame_sql(self, limit: int = FRAME_ROWS) -> str:
        return self.sql.format(limit=int(limit))


def set_as_of(con, as_of_date: str | None) -> None:
    """Give the rules of `con` the build's as-of date (YYYY-MM-DD, or None: the latest)."""
    con.execute(f"set variable {AS_OF_VARIABLE} = cast(? as date)", [as_of_date])


def run_rule(con, rule: Rule, limit: int = FRAME_ROWS) -> Outcome:
    """Run the rule's SQL on a DuckDB connection and validate its frame."""
    frame = con.sql(rule.frame_sql(limit)).pl()
    return validate_frame(frame, rule.suite(), rule.index_columns, frame_limit=limit)


def _asset(table: str) -> tuple[str, str]:
    schema, name = table.split(".")
    return schema, name


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def raw_rules(obj: CrmObject) -> list[Rule]:
    """The as-of snapshot of one raw object (the latest on or before the build's as-of
    date): valid rows (blocking), no rejects (warning)."""
    table = versions_table(obj)
    columns = [f.name for f in obj.fields]
    problems = [f"({_quote(c)} is null)::int" for c in obj.required_fields]
    if obj.key:
        problems.append("(_rows_with_key > 1)::int")
    for f in obj.fields:
        if f.allowed:
            allowed = ", ".join(_literal(v) for v in f.allowed)
            problems.append(f"coalesce({_quote(f.name)} not in ({allowed}), false)::int")
    key_count = (
        f", count(*) over (partition by {_quote(obj.key)}) as _rows_with_key" if obj.key else ""
    )
    order_key = f", {_quote(obj.key)}" if obj.key else ""
    valid_sql = f"""
        with latest as (
            select {", ".join(_quote(c) for c in columns)}, _line_number{key_count}
            from {table}
            where {LATEST_SNAPSHOT} between _first_snapshot_date and _last_snapshot_date
        )
        select {", ".join(_quote(c) for c in columns)}, _line_number
        from latest
        order by {" + ".join(problems) or "0"} desc{order_key}, _line_number
        limit {{limit}}
    """
    rejects_sql = f"""
        select line_number, reason
        from raw.rejects
        where object_name = {_literal(obj.name)} and snapshot_date = {LATEST_SNAPSHOT}
        order by line_number
        limit {{limit}}
    """
    index = ("_line_number", obj.key) if obj.key else ("_line_number",)
    return [
        Rule(
            asset=("raw", obj.table),
            name="latest_snapshot_valid",
            description=(
                f"The as-of snapshot of {obj.name} (the latest on or before the build's "
                "as-of date): required fields filled, "
                + (f"{obj.key} unique, " if obj.key else "")
                + "picklist values known. A bad row here would reach every mart."
            ),
            sql=valid_sql,
            reads=(("raw", "snapshots"),),
            suite=lambda obj=obj: raw_object_suite(obj),
            index_columns=tuple(c for c in index if c),
        ),
        Rule(
            asset=("raw", obj.table),
            name="latest_snapshot_without_rejects",
            description=(
                f"Rows of the as-of snapshot's {obj.name} file that ingest rejected "
                "(raw.rejects). "
                "Warns only: rejected rows are reported, never fatal (SPEC 3)."
            ),
            sql=rejects_sql,
            reads=(("raw", "snapshots"),),
            suite=lambda obj=obj: no_rows_suite(
                f"raw.{obj.table}.rejects", f"{obj.name} rows rejected in the latest snapshot"
            ),
            index_columns=("line_number", "reason"),
            blocking=False,
        ),
    ]


def unique_key_rule(table: str, key_columns: Sequence[str], keys_not_null: bool = True) -> Rule:
    key = ", ".join(key_columns)
    null_key = " or ".join(f"{c} is null" for c in key_columns)
    return Rule(
        asset=_asset(table),
        name="unique_" + "_".join(key_columns) if len(key_columns) == 1 else "unique_key",
        description=f"One row per {key}: a duplicate key double counts money.",
        sql=f"""
            select {key}, count(*) as rows_per_key
            from {table}
            group by {key}
            order by rows_per_key desc, ({null_key}) desc
            limit {{limit}}
        """,
        suite=lambda: unique_key_suite(f"{table}.unique", key_columns, keys_not_null),
        index_columns=tuple(key_columns),
    )


def not_negative_rule(table: str, key_columns: Sequence[str], columns: Sequence[str]) -> Rule:
    least = ", ".join(f"coalesce({c}, 0)" for c in columns)
    values = ", ".join(f"cast({c} as double) as {c}" for c in columns)
    return Rule(
        asset=_asset(table),
        name="mrr_not_negative",
        description=f"{', '.join(columns)} never below zero: negative MRR misstates revenue.",
        sql=f"""
            select {", ".join(key_columns)}, {values}
            from {table}
            order by least({least}) asc
            limit {{limit}}
        """,
        suite=lambda: at_least_suite(
            f"{table}.not_negative", {c: (0, f"{c} is not negative") for c in columns}
        ),
        index_columns=tuple(key_columns),
    )


def warning_rows_rule(
    table: str,
    name: str,
    index_columns: Sequence[str],
    what: str,
    consequence: str = "these rows are to be fixed in the CRM",
    condition: str = "true",
) -> Rule:
    """A warning: rows of `table` (matching `condition`) are reported, they never block."""
    columns = ", ".join(index_columns)
    return Rule(
        asset=_asset(table),
        name=name,
        description=f"No {what} ({table}). Warns only: {consequence}.",
        sql=f"select {columns} from {table} where {condition} order by {columns} limit {{limit}}",
        suite=lambda: no_rows_suite(f"{table}.{name}", what),
        index_columns=tuple(index_columns),
        blocking=False,
    )


def _forecast_suite() -> ExpectationSuite:
    _, gxe = _gx()
    suite = within_tolerance_suite(
        "marts.fct_mrr_forecast_by_close_month.totals",
        {
            "mrr_difference": ("rounding_tolerance", "forecast MRR = opportunities' MRR"),
            "tcv_difference": ("rounding_tolerance", "forecast TCV = opportunities' TCV"),
        },
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="weighted_mrr_above_mrr",
            min_value=0,
            max_value=0,
            description="weighted MRR never above MRR",
        )
    )
    return suite


SCHEDULE_TOTALS_SQL = """
with row_totals as (
    select
        line_item_id,
        schedule_type,
        sum(quantity) as quantity,
        sum(revenue) as revenue,
        sum(revenue_original) as revenue_original
    from marts.fct_schedules
    group by line_item_id, schedule_type
),

expected as (
    select line_item_id, 'quantity' as schedule_type, scheduled_quantity as quantity,
        null as revenue, null as revenue_original
    from marts.fct_line_items
    where quantity_schedule_source is not null and not has_schedule_error
    union all
    select line_item_id, 'revenue' as schedule_type, null as quantity,
        tcv as revenue, tcv_original as revenue_original
    from marts.fct_line_items
    where revenue_schedule_source is not null and not has_schedule_error
),

compared as (
    select
        coalesce(e.line_item_id, r.line_item_id) as line_item_id,
        coalesce(e.schedule_type, r.schedule_type) as schedule_type,
        -- 1 = schedule rows without a schedule on the line, or a schedule without rows
        cast((e.line_item_id is null) or (r.line_item_id is null) as integer) as unmatched,
        cast(case coalesce(e.schedule_type, r.schedule_type)
            when 'quantity' then coalesce(r.quantity, 0) - coalesce(e.quantity, 0)
            else coalesce(r.revenue, 0) - coalesce(e.revenue, 0)
        end as double) as difference,
        cast(case coalesce(e.schedule_type, r.schedule_type)
            when 'revenue' then coalesce(r.revenue_original, 0) - coalesce(e.revenue_original, 0)
            else 0
        end as double) as difference_original
    from expected as e
    full outer join row_totals as r
        on e.line_item_id = r.line_item_id and e.schedule_type = r.schedule_type
)

select *
from compared
order by unmatched desc, abs(difference) + abs(difference_original) desc, line_item_id
limit {limit}
"""

SPLIT_TOTALS_SQL = """
with splits as (
    select * from marts.fct_opportunity_splits
),

-- Total-validated split types of MRR or Amount: their splits must add up (SPEC 4.5).
validated_types as (
    select distinct split_type_id, split_type, split_field
    from splits
    where is_total_validated and split_field in ('MRR', 'Amount')
),

per_opportunity as (
    select
        opportunity_id,
        split_type_id,
        count(*) as split_count,
        sum(split_percentage) as total_percentage,
        sum(split_mrr) as split_mrr,
        sum(split_amount) as split_amount
    from splits
    group by opportunity_id, split_type_id
),

compared as (
    select
        o.opportunity_id,
        t.split_type,
        t.split_field,
        coalesce(p.split_count, 0) as split_count,
        cast(case t.split_field
            when 'MRR' then coalesce(p.split_mrr, 0) - coalesce(o.mrr, 0)
            else coalesce(p.split_amount, 0) - coalesce(o.amount, 0)
        end as double) as difference,
        -- Shares are differences of rounded running totals: they add up to the cent.
        -- (The tolerance only absorbs the cast to double.)
        1e-9 as rounding_tolerance
    from marts.fct_opportunities as o
    cross join validated_types as t
    left join per_opportunity as p
        on o.opportunity_id = p.opportunity_id and t.split_type_id = p.split_type_id
    -- Percentages not adding up to 100 are split_errors (a warning), not a wrong sum.
    where p.total_percentage is null or p.total_percentage = 100
)

select *, abs(difference) as abs_difference
from compared
order by abs(difference) - rounding_tolerance desc, opportunity_id
limit {limit}
"""

OPPORTUNITY_TOTALS_SQL = """
with lines as (
    select opportunity_id, sum(mrr) as mrr, sum(tcv) as tcv
    from marts.fct_line_items
    group by opportunity_id
),

compared as (
    select
        o.opportunity_id,
        cast(o.mrr - coalesce(l.mrr, 0) as double) as mrr_difference,
        cast(o.tcv - coalesce(l.tcv, 0) as double) as tcv_difference,
        cast(o.arr - 12 * o.mrr as double) as arr_difference
    from marts.fct_opportunities as o
    left join lines as l on o.opportunity_id = l.opportunity_id
)

select *
from compared
order by abs(mrr_difference) + abs(tcv_difference) + abs(arr_difference) desc, opportunity_id
limit {limit}
"""

LINE_MRR_SQL = """
select
    line_item_id,
    is_recurring,
    has_schedule_error,
    -- SPEC 4.5: usage and one-time lines have MRR 0; a line in schedule_errors MRR and TCV 0.
    cast(case when not is_recurring or has_schedule_error then mrr else 0 end as double)
        as unexpected_mrr,
    cast(case when has_schedule_error then tcv else 0 end as double) as unexpected_tcv,
    cast(arr - 12 * mrr as double) as arr_difference
from marts.fct_line_items
order by abs(unexpected_mrr) + abs(unexpected_tcv) + abs(arr_difference) desc, line_item_id
limit {limit}
"""

ITEM_OVERLAP_SQL = """
with versions as (
    select
        subscription_item_id,
        subscription_id,
        order_no,
        start_date,
        end_date,
        lead(subscription_item_id) over by_start as next_item_id,
        lead(start_date) over by_start as next_start_date
    from marts.fct_subscription_items
    -- An empty version (end = start - 1: replaced before it began) holds no day at all.
    where end_date is null or end_date >= start_date
    window by_start as (
        partition by subscription_id, order_no
        order by start_date, end_date nulls last, subscription_item_id
    )
),

all_items as (
    select
        v.*,
        -- >= 1: the next version starts after this one ended (open end = never ends)
        datediff('day', coalesce(end_date, date '9999-12-31'), next_start_date) as gap_days,
        null::bigint as length_days
    from versions as v
    union all
    select
        subscription_item_id, subscription_id, order_no, start_date, end_date,
        null, null, null,
        -- >= 0: an item ends at the earliest the day before it starts (an empty version)
        datediff('day', start_date, end_date) + 1 as length_days
    from marts.fct_subscription_items
    where end_date < start_date
)

select *
from all_items
order by least(coalesce(gap_days, 1e12), coalesce(length_days, 1e12)), subscription_item_id
limit {limit}
"""

SUBSCRIPTION_DATES_SQL = """
select
    subscription_id,
    start_date,
    end_date,
    -- >= 0: a subscription ends at the earliest the day before it starts (upgraded at once)
    datediff('day', start_date, end_date) + 1 as length_days
from marts.fct_subscriptions
order by coalesce(length_days, 1e12), subscription_id
limit {limit}
"""

MRR_MONTHS_SQL = """
with monthly as (
    select * from marts.fct_mrr_monthly
),

compared as (
    select
        m.master_account_id,
        m.month,
        -- previous month's mrr = this month's previous_mrr (0 when there is no row: new
        -- customer or reactivation after churn)
        cast(m.previous_mrr - coalesce(p.mrr, 0) as double) as previous_mrr_difference,
        cast(m.mrr_change - (m.mrr - m.previous_mrr) as double) as mrr_change_difference
    from monthly as m
    left join monthly as p
        on m.master_account_id = p.master_account_id
        and p.month = cast(m.month - interval 1 month as date)
)

select *
from compared
order by abs(previous_mrr_difference) + abs(mrr_change_difference) desc, master_account_id, month
limit {limit}
"""

MRR_ITEMS_SQL = """
with months as (
    select
        month,
        cast(month + interval 1 month - interval 1 day as date) as month_end,
        sum(opening_mrr) as opening_mrr,
        sum(closing_mrr) as closing_mrr,
        -- mrr is one convention's measure on every row (the mrr_convention setting)
        count(*) filter (where mrr != opening_mrr) as rows_not_opening,
        count(*) filter (where mrr != closing_mrr) as rows_not_closing
    from marts.fct_mrr_monthly
    group by month
),

items as (
    select
        m.month,
        sum(i.mrr) filter (
            where i.start_date <= m.month and (i.end_date is null or i.end_date >= m.month)
        ) as opening_mrr,
        sum(i.mrr) filter (
            where i.start_date <= m.month_end and (i.end_date is null or i.end_date >= m.month_end)
        ) as closing_mrr
    from months as m
    inner join marts.fct_subscription_items as i
        on i.start_date <= m.month_end and (i.end_date is null or i.end_date >= m.month)
    group by m.month
),

conventions as (
    select
        sum(rows_not_opening) as rows_not_opening,
        sum(rows_not_closing) as rows_not_closing
    from months
)

select
    m.month,
    cast(m.opening_mrr as double) as opening_mrr,
    cast(coalesce(i.opening_mrr, 0) as double) as items_opening_mrr,
    cast(m.opening_mrr - coalesce(i.opening_mrr, 0) as double) as opening_difference,
    cast(m.closing_mrr - coalesce(i.closing_mrr, 0) as double) as closing_difference,
    cast(least(c.rows_not_opening, c.rows_not_closing) as double) as rows_of_other_convention
from months as m
cross join conventions as c
left join items as i on m.month = i.month
order by abs(opening_difference) + abs(closing_difference) desc, m.month
limit {limit}
"""

MOVEMENTS_SQL = """
with movements as (
    select * from marts.fct_mrr_movements
),

monthly as (
    select month, movement, count(*) as accounts, sum(mrr_change) as mrr_change
    from marts.fct_mrr_monthly
    group by month, movement
),

monthly_totals as (
    select
        month,
        sum(mrr) as mrr,
        sum(mrr_at_current_rates) as mrr_at_current_rates
    from marts.fct_mrr_monthly
    group by month
),

per_month as (
    select
        v.month,
        any_value(v.month_starting_mrr) as starting_mrr,
        any_value(v.month_ending_mrr) as ending_mrr,
        any_value(v.month_net_new_mrr) as net_new_mrr,
        any_value(v.month_starting_mrr_at_current_rates) as starting_mrr_at_current_rates,
        any_value(v.month_ending_mrr_at_current_rates) as ending_mrr_at_current_rates,
        sum(v.mrr_change) filter (where v.movement != 'fx_impact') as mrr_change,
        sum(v.mrr_change) filter (where v.movement = 'fx_impact') as fx_impact,
        -- each movement row = fct_mrr_monthly's accounts and change for that movement
        sum(abs(v.accounts - coalesce(m.accounts, 0))
            + abs(v.mrr_change - coalesce(m.mrr_change, 0)))
            filter (where v.movement != 'fx_impact') as monthly_mismatch
    from movements as v
    left join monthly as m on v.month = m.month and v.movement = m.movement
    group by v.month
),

compared as (
    select
        c.month,
        -- this month starts where the previous month ended, in both currency views
        cast(coalesce(c.starting_mrr, 0) - coalesce(p.ending_mrr, 0) as double)
            as starting_difference,
        cast(coalesce(c.starting_mrr_at_current_rates, 0)
            - coalesce(p.ending_mrr_at_current_rates, 0) as double)
            as starting_fx_difference,
        -- opening + movements = closing; at current rates + fx_impact
        cast(coalesce(p.ending_mrr, 0) + c.mrr_change - c.ending_mrr as double)
            as movements_difference,
        cast(coalesce(p.ending_mrr_at_current_rates, 0) + c.mrr_change + c.fx_impact
            - c.ending_mrr_at_current_rates as double) as fx_movements_difference,
        cast(c.net_new_mrr - c.mrr_change as double) as net_new_difference,
        -- the ending figures are fct_mrr_monthly's totals
        cast(abs(c.ending_mrr - t.mrr)
            + abs(c.ending_mrr_at_current_rates - t.mrr_at_current_rates) as double)
            as ending_mismatch,
        cast(c.monthly_mismatch as double) as monthly_mismatch
    from per_month as c
    left join per_month as p on p.month = cast(c.month - interval 1 month as date)
    left join monthly_totals as t on c.month = t.month
)

select *
from compared
order by abs(starting_difference) + abs(starting_fx_difference) + abs(movements_difference)
    + abs(fx_movements_difference) + abs(net_new_difference) + abs(ending_mismatch)
    + abs(monthly_mismatch) desc, month
limit {limit}
"""

BRIDGE_SQL = """
with bridge as (
    select
        master_account_id,
        month,
        sum(mrr_change) as mrr_change,
        sum(abs(new_product + removed_product + quantity + price - mrr_change)) as parts_difference
    from marts.fct_mrr_bridge_detail
    group by master_account_id, month
),

compared as (
    select
        coalesce(m.master_account_id, b.master_account_id) as master_account_id,
        coalesce(m.month, b.month) as month,
        -- the products' changes add up to the customer's change (0 without bridge rows)
        cast(coalesce(b.mrr_change, 0) - coalesce(m.mrr_change, 0) as double)
            as change_difference,
        cast(coalesce(b.parts_difference, 0) as double) as parts_difference,
        cast(case when m.master_account_id is null then 1 else 0 end as double)
            as rows_without_customer_month
    from marts.fct_mrr_monthly as m
    full outer join bridge as b
        on m.master_account_id = b.master_account_id and m.month = b.month
)

select *
from compared
order by abs(change_difference) + parts_difference + rows_without_customer_month desc,
    master_account_id, month
limit {limit}
"""

FORECAST_SQL = """
with forecast as (
    select
        close_month,
        sum(mrr) as mrr,
        sum(tcv) as tcv,
        count(*) as forecast_rows,
        sum(greatest(weighted_mrr - mrr, 0)) as weighted_above_mrr
    from marts.fct_mrr_forecast_by_close_month
    group by close_month
),

opportunities as (
    select
        cast(date_trunc('month', close_date) as date) as close_month,
        sum(mrr) as mrr,
        sum(tcv) as tcv
    from marts.fct_opportunities
    group by 1
),

compared as (
    select
        coalesce(f.close_month, o.close_month) as close_month,
        cast(abs(coalesce(f.mrr, 0) - coalesce(o.mrr, 0)) as double) as mrr_difference,
        cast(abs(coalesce(f.tcv, 0) - coalesce(o.tcv, 0)) as double) as tcv_difference,
        -- every forecast row is rounded to the cent on its own
        0.005 * greatest(coalesce(f.forecast_rows, 0), 1) + 1e-9 as rounding_tolerance,
        cast(coalesce(f.weighted_above_mrr, 0) as double) as weighted_mrr_above_mrr
    from forecast as f
    full outer join opportunities as o on f.close_month = o.close_month
)

select *
from compared
order by greatest(mrr_difference, tcv_difference) - rounding_tolerance
    + weighted_mrr_above_mrr desc, close_month
limit {limit}
"""

WATERFALL_SQL = """
with waterfall as (
    select * from marts.fct_pipeline_waterfall
),

-- opening + every movement = closing, per row group of the waterfall (SPEC 4.12).
groups as (
    select
        grain,
        from_snapshot_date,
        to_snapshot_date,
        close_month,
        forecast_category,
        owner_id,
        'opening + movements = closing' as identity,
        cast(sum(case when movement = 'closing' then -amount else amount end) as double)
            as amount_difference,
        cast(sum(case when movement = 'closing' then -mrr else mrr end) as double)
            as mrr_difference
    from waterfall
    group by all
),

per_month as (
    select
        grain,
        from_snapshot_date,
        to_snapshot_date,
        close_month,
        sum(case when movement = 'opening' then amount else 0 end) as opening_amount,
        sum(case when movement = 'opening' then mrr else 0 end) as opening_mrr,
        sum(case when movement = 'closing' then amount else 0 end) as closing_amount,
        sum(case when movement = 'closing' then mrr else 0 end) as closing_mrr
    from waterfall
    group by all
),

-- Consecutive snapshots chain: a pair closes where the next one opens; and a week's or a
-- month's opening is the opening of the snapshot pair starting at its first snapshot.
snapshot_months as (
    select * from per_month where grain = 'snapshot'
),

chained as (
    select
        'snapshot' as grain,
        c.from_snapshot_date,
        c.to_snapshot_date,
        c.close_month,
        null as forecast_category,
        null as owner_id,
        'closing = next opening' as identity,
        cast(coalesce(c.closing_amount, 0) - coalesce(n.opening_amount, 0) as double)
            as amount_difference,
        cast(coalesce(c.closing_mrr, 0) - coalesce(n.opening_mrr, 0) as double)
            as mrr_difference
    from snapshot_months as c
    inner join (select distinct from_snapshot_date from snapshot_months) as s
        on c.to_snapshot_date = s.from_snapshot_date
    left join snapshot_months as n
        on c.to_snapshot_date = n.from_snapshot_date and c.close_month = n.close_month
),

periods as (
    select
        p.grain,
        p.from_snapshot_date,
        p.to_snapshot_date,
        p.close_month,
        null as forecast_category,
        null as owner_id,
        'period opening = snapshot opening' as identity,
        cast(p.opening_amount - coalesce(s.opening_amount, 0) as double) as amount_difference,
        cast(p.opening_mrr - coalesce(s.opening_mrr, 0) as double) as mrr_difference
    from per_month as p
    left join snapshot_months as s
        on p.from_snapshot_date = s.from_snapshot_date and p.close_month = s.close_month
    where p.grain != 'snapshot'
),

compared as (
    select * from groups
    union all
    select * from chained
    union all
    select * from periods
)

select *
from compared
order by abs(amount_difference) + abs(mrr_difference) desc, grain, from_snapshot_date, close_month
limit {limit}
"""

RESTATEMENTS_SQL = """
with explained as (
    select month, metric, sum(difference) as difference, count(*) as records
    from marts.fct_restatements
    group by month, metric
),

compared as (
    select
        coalesce(c.month, e.month) as month,
        coalesce(c.metric, e.metric) as metric,
        cast(c.difference as double) as month_close_difference,
        cast(coalesce(e.difference, 0) as double) as restated_records_difference,
        cast(coalesce(c.difference, 0) - coalesce(e.difference, 0) as double) as unexplained,
        -- a restatement of a month or figure that fct_month_close does not have
        cast(case when c.month is null then 1 else 0 end as double) as orphan_records
    from marts.fct_month_close as c
    full outer join explained as e on c.month = e.month and c.metric = e.metric
)

select *
from compared
order by abs(unexplained) + orphan_records desc, month, metric
limit {limit}
"""


def mart_rules() -> list[Rule]:
    """Checks of the finance-facing marts; blocking ones stop the publish."""
    rules = [
        # fct_opportunities
        unique_key_rule("marts.fct_opportunities", ["opportunity_id"]),
        not_negative_rule("marts.fct_opportunities", ["opportunity_id"], ["mrr", "arr"]),
        Rule(
            asset=("marts", "fct_opportunities"),
            name="mrr_and_tcv_match_line_items",
            description=(
                "Opportunity MRR and TCV = the sums over its lines in fct_line_items; "
                "ARR = 12 x MRR (SPEC 4.5)."
            ),
            sql=OPPORTUNITY_TOTALS_SQL,
            reads=(("marts", "fct_line_items"),),
            suite=lambda: zero_suite(
                "marts.fct_opportunities.totals",
                {
                    "mrr_difference": "opportunity MRR = sum of its lines' MRR",
                    "tcv_difference": "opportunity TCV = sum of its lines' TCV",
                    "arr_difference": "opportunity ARR = 12 x MRR",
                },
            ),
            index_columns=("opportunity_id",),
        ),
        warning_rows_rule(
            "marts.fct_opportunities",
            "fx_rates_found",
            ["opportunity_id", "currency_iso_code", "close_date"],
            "foreign-currency opportunities without a conversion rate on their close date",
            consequence="the nearest rate (or 1) was used instead",
            condition="is_fx_rate_missing",
        ),
        # fct_line_items
        unique_key_rule("marts.fct_line_items", ["line_item_id"]),
        not_negative_rule("marts.fct_line_items", ["line_item_id"], ["mrr", "arr"]),
        Rule(
            asset=("marts", "fct_line_items"),
            name="mrr_only_on_recurring_lines",
            description=(
                "One-time and usage lines have MRR 0; a line in schedule_errors has MRR and "
                "TCV 0; ARR = 12 x MRR (SPEC 4.5)."
            ),
            sql=LINE_MRR_SQL,
            suite=lambda: zero_suite(
                "marts.fct_line_items.recurring",
                {
                    "unexpected_mrr": "MRR 0 on one-time, usage and schedule-error lines",
                    "unexpected_tcv": "TCV 0 on schedule-error lines",
                    "arr_difference": "line ARR = 12 x MRR",
                },
            ),
            index_columns=("line_item_id", "is_recurring", "has_schedule_error"),
        ),
        # fct_schedules
        unique_key_rule(
            "marts.fct_schedules", ["line_item_id", "schedule_type", "installment_number"]
        ),
        Rule(
            asset=("marts", "fct_schedules"),
            name="installments_sum_to_line_totals",
            description=(
                "Per line and schedule type, installments sum exactly to the line total: "
                "quantity rows to scheduled_quantity, revenue rows to TCV, in corporate and "
                "original currency (SPEC 4.4). Aggregated per line in SQL."
            ),
            sql=SCHEDULE_TOTALS_SQL,
            reads=(("marts", "fct_line_items"),),
            suite=lambda: zero_suite(
                "marts.fct_schedules.totals",
                {
                    "unmatched": "a line with a schedule has rows, and rows belong to a schedule",
                    "difference": "installments sum to the line total",
                    "difference_original": "revenue installments sum to the line total in "
                    "the opportunity's currency",
                },
            ),
            index_columns=("line_item_id", "schedule_type"),
        ),
        # fct_opportunity_splits
        unique_key_rule("marts.fct_opportunity_splits", ["split_id"]),
        not_negative_rule("marts.fct_opportunity_splits", ["split_id"], ["split_mrr"]),
        Rule(
            asset=("marts", "fct_opportunity_splits"),
            name="validated_splits_sum_to_opportunity_totals",
            description=(
                "For total-validated split types whose percentages add up to 100, the "
                "opportunity's split MRR (or amount) adds up to its MRR (or amount) to the "
                "cent; every opportunity has rows for every such type. "
                "Percentages not adding up to 100 are split_errors (a warning)."
            ),
            sql=SPLIT_TOTALS_SQL,
            reads=(("marts", "fct_opportunities"),),
            suite=lambda: within_tolerance_suite(
                "marts.fct_opportunity_splits.totals",
                {
                    "abs_difference": (
                        "rounding_tolerance",
                        "validated splits add up to the opportunity's MRR or amount",
                    )
                },
            ),
            index_columns=("opportunity_id", "split_type", "split_count", "difference"),
        ),
        # fct_mrr_forecast_by_close_month
        unique_key_rule(
            "marts.fct_mrr_forecast_by_close_month",
            ["close_month", "forecast_category", "owner_id"],
            keys_not_null=False,
        ),
        not_negative_rule(
            "marts.fct_mrr_forecast_by_close_month",
            ["close_month", "forecast_category", "owner_id"],
            ["mrr", "weighted_mrr"],
        ),
        Rule(
            asset=("marts", "fct_mrr_forecast_by_close_month"),
            name="totals_match_opportunities",
            description=(
                "Per close month, forecast MRR and TCV over all categories and owners = the "
                "opportunities' MRR and TCV (splits share, never add or lose), within half a "
                "cent per forecast row; weighted MRR never above MRR."
            ),
            sql=FORECAST_SQL,
            reads=(("marts", "fct_opportunities"),),
            suite=lambda: _forecast_suite(),
            index_columns=("close_month",),
        ),
        # fct_subscriptions and fct_subscription_items
        unique_key_rule("marts.fct_subscriptions", ["subscription_id"]),
        Rule(
            asset=("marts", "fct_subscriptions"),
            name="dates_in_order",
            description=(
                "A subscription ends on or after the day before it starts (the day before: "
                "upgraded on its first day)."
            ),
            sql=SUBSCRIPTION_DATES_SQL,
            suite=lambda: at_least_suite(
                "marts.fct_subscriptions.dates",
                {"length_days": (0, "end_date >= start_date - 1 day")},
            ),
            index_columns=("subscription_id", "start_date", "end_date"),
        ),
        unique_key_rule("marts.fct_subscription_items", ["subscription_item_id"]),
        not_negative_rule("marts.fct_subscription_items", ["subscription_item_id"], ["mrr"]),
        Rule(
            asset=("marts", "fct_subscription_items"),
            name="versions_do_not_overlap",
            description=(
                "Within (subscription_id, order_no), an item version starts after the "
                "previous one ended (an overlap counts its MRR twice); an item ends on or "
                "after the day before it starts."
            ),
            sql=ITEM_OVERLAP_SQL,
            suite=lambda: at_least_suite(
                "marts.fct_subscription_items.versions",
                {
                    "gap_days": (1, "next version of the order number starts after this one"),
                    "length_days": (0, "end_date >= start_date - 1 day"),
                },
            ),
            index_columns=(
                "subscription_id",
                "order_no",
                "subscription_item_id",
                "end_date",
                "next_item_id",
                "next_start_date",
                "start_date",
            ),
        ),
        # fct_mrr_monthly and fct_mrr_movements
        unique_key_rule("marts.fct_mrr_monthly", ["master_account_id", "month"]),
        not_negative_rule(
            "marts.fct_mrr_monthly", ["master_account_id", "month"], ["mrr", "previous_mrr"]
        ),
        Rule(
            asset=("marts", "fct_mrr_monthly"),
            name="previous_mrr_is_last_months_mrr",
            description=(
                "Each account-month's previous_mrr = the account's mrr of the month before "
                "(0 when new or reactivated), and mrr_change = mrr - previous_mrr (SPEC 4.9)."
            ),
            sql=MRR_MONTHS_SQL,
            suite=lambda: zero_suite(
                "marts.fct_mrr_monthly.months",
                {
                    "previous_mrr_difference": "previous_mrr = last month's mrr",
                    "mrr_change_difference": "mrr_change = mrr - previous_mrr",
                },
            ),
            index_columns=("master_account_id", "month"),
        ),
        Rule(
            asset=("marts", "fct_mrr_monthly"),
            name="mrr_matches_subscription_items",
            description=(
                "Each month's opening MRR = the MRR of subscription items active on the "
                "month's first day, its closing MRR = those active on its last day; mrr is "
                "one of the two on every row (SPEC 4.9)."
            ),
            sql=MRR_ITEMS_SQL,
            reads=(("marts", "fct_subscription_items"),),
            suite=lambda: zero_suite(
                "marts.fct_mrr_monthly.items",
                {
                    "opening_difference": "opening MRR = MRR of items active on the first day",
                    "closing_difference": "closing MRR = MRR of items active on the last day",
                    "rows_of_other_convention": "mrr is one convention's MRR on every row",
                },
            ),
            index_columns=("month", "opening_mrr", "items_opening_mrr"),
        ),
        unique_key_rule("marts.fct_mrr_movements", ["month", "movement"]),
        Rule(
            asset=("marts", "fct_mrr_movements"),
            name="movements_reconcile_month_to_month",
            description=(
                "A month starts with the MRR the previous month ended with; opening + the "
                "six movements = closing, and at current rates opening + movements + "
                "fx_impact = closing (SPEC 4.9, 4.13); net new MRR = the movements; each "
                "movement row and the ending totals match fct_mrr_monthly."
            ),
            sql=MOVEMENTS_SQL,
            reads=(("marts", "fct_mrr_monthly"),),
            suite=lambda: zero_suite(
                "marts.fct_mrr_movements.reconcile",
                {
                    "starting_difference": "starting MRR = previous month's ending MRR",
                    "starting_fx_difference": "the same at current rates",
                    "movements_difference": "previous ending MRR + movements = ending MRR",
                    "fx_movements_difference": "at current rates: previous ending + "
                    "movements + fx_impact = ending",
                    "net_new_difference": "net new MRR = the sum of the movements",
                    "ending_mismatch": "ending MRR = fct_mrr_monthly's total",
                    "monthly_mismatch": "movement rows match fct_mrr_monthly",
                },
            ),
            index_columns=("month",),
        ),
        # fct_mrr_bridge_detail
        unique_key_rule(
            "marts.fct_mrr_bridge_detail", ["master_account_id", "month", "product_id"]
        ),
        Rule(
            asset=("marts", "fct_mrr_bridge_detail"),
            name="bridge_sums_to_mrr_change",
            description=(
                "Per customer and month the products' MRR changes add up exactly to "
                "fct_mrr_monthly's mrr_change, each row's new_product + removed_product + "
                "quantity + price = its mrr_change, and every row is a customer-month of "
                "fct_mrr_monthly (SPEC 4.13)."
            ),
            sql=BRIDGE_SQL,
            reads=(("marts", "fct_mrr_monthly"),),
            suite=lambda: zero_suite(
                "marts.fct_mrr_bridge_detail.reconcile",
                {
                    "change_difference": "products' changes add up to the customer's change",
                    "parts_difference": "new + removed + quantity + price = the change",
                    "rows_without_customer_month": "rows belong to a customer-month",
                },
            ),
            index_columns=("master_account_id", "month"),
        ),
        # fct_pipeline_waterfall
        Rule(
            asset=("marts", "fct_pipeline_waterfall"),
            name="waterfall_reconciles",
            description=(
                "Per close month, category and owner, opening + every movement = closing to "
                "the cent, in amount and MRR; consecutive snapshot pairs chain (a pair closes "
                "where the next one opens) and a week's or month's opening is the opening of "
                "its first snapshot (SPEC 4.12)."
            ),
            sql=WATERFALL_SQL,
            suite=lambda: zero_suite(
                "marts.fct_pipeline_waterfall.reconcile",
                {
                    "amount_difference": "amount: opening + movements = closing, pairs chain",
                    "mrr_difference": "MRR: opening + movements = closing, pairs chain",
                },
            ),
            index_columns=(
                "identity",
                "grain",
                "from_snapshot_date",
                "to_snapshot_date",
                "close_month",
                "forecast_category",
                "owner_id",
            ),
        ),
        # fct_month_close and fct_restatements
        Rule(
            asset=("marts", "fct_restatements"),
            name="restatements_explain_month_close",
            description=(
                "Per closed month and figure, the restated records' differences add up to "
                "fct_month_close's restated - reported to the cent, and no record belongs "
                "to a month or figure fct_month_close lacks (SPEC 4.12)."
            ),
            sql=RESTATEMENTS_SQL,
            reads=(("marts", "fct_month_close"),),
            suite=lambda: zero_suite(
                "marts.fct_restatements.explain",
                {
                    "unexplained": "restatements add up to the month close's difference",
                    "orphan_records": "every restatement belongs to a closed month's figure",
                },
            ),
            index_columns=("month", "metric", "month_close_difference"),
        ),
        # Error marts: rows in them are reported, they do not stop the publish.
        warning_rows_rule(
            "marts.split_errors",
            "no_split_errors",
            ["opportunity_id", "message"],
            "opportunities whose total-validated splits do not add up to 100%",
        ),
        warning_rows_rule(
            "marts.schedule_errors",
            "no_schedule_errors",
            ["line_item_id", "message"],
            "lines with a schedule Salesforce would refuse (installments outside 1..150)",
        ),
        warning_rows_rule(
            "marts.subscription_build_errors",
            "no_subscription_build_errors",
            ["opportunity_id", "message"],
            "source opportunities the subscription builder skipped",
        ),
    ]
    return rules


def all_rules() -> list[Rule]:
    """Every rule: the raw objects' (latest snapshot) and the marts'."""
    return [rule for obj in OBJECTS for rule in raw_rules(obj)] + mart_rules()
