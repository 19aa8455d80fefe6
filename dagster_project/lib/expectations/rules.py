"""A rule = SQL that reduces a table to a bounded frame of its worst rows + the suite that
judges the frame; how a rule runs on a DuckDB connection; the SQL files of the rules.

Because the worst rows come first, the verdict is exact at any scale (when the worst row
passes, every row does) while GX never sees more than `FRAME_ROWS` rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from dagster_project.lib.expectations.engine import FRAME_ROWS, Outcome, validate_frame
from dagster_project.lib.expectations.suites import no_rows_suite

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

# The reconciliations' SQL, one file per rule, beside this module (packaged with it).
SQL_DIR = Path(__file__).with_name("sql")

# The snapshot the marts call current (dbt's current_snapshot_date()): the latest one on or
# before the build's as-of date. Raw checks run before any model (they block the models),
# so the as-of comes from the build's checked settings, set on the connection as a value
# (AS_OF_VARIABLE, null = the latest snapshot; see set_as_of).
AS_OF_VARIABLE = "recurwise_as_of_date"
LATEST_SNAPSHOT = (
    "(select max(snapshot_date) from raw.snapshots "
    f"where snapshot_date <= coalesce(getvariable('{AS_OF_VARIABLE}'), snapshot_date))"
)


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
        """schema.table of the checked asset."""
        return ".".join(self.asset)

    def frame_sql(self, limit: int = FRAME_ROWS) -> str:
        """The rule's SQL with its row bound filled in."""
        return self.sql.format(limit=int(limit))


@cache
def rule_sql(name: str) -> str:
    """The SQL of the reconciliation `name` (sql/<name>.sql), with a `{limit}` placeholder."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def set_as_of(con, as_of_date: str | None) -> None:
    """Give the rules of `con` the build's as-of date (YYYY-MM-DD, or None: the latest)."""
    con.execute(f"set variable {AS_OF_VARIABLE} = cast(? as date)", [as_of_date])


def run_rule(con, rule: Rule, limit: int = FRAME_ROWS) -> Outcome:
    """Run the rule's SQL on a DuckDB connection and validate its frame."""
    frame = con.sql(rule.frame_sql(limit)).pl()
    return validate_frame(frame, rule.suite(), rule.index_columns, frame_limit=limit)


def run_rule_on_spark(spark, rule: Rule, limit: int = FRAME_ROWS) -> Outcome:
    """Run the rule's SQL on a Spark session whose catalog names its tables, and validate
    its frame: the same SQL (portable by construction) and the same suite as on DuckDB."""
    import polars as pl

    frame = pl.from_arrow(spark.sql(rule.frame_sql(limit)).toArrow())
    return validate_frame(frame, rule.suite(), rule.index_columns, frame_limit=limit)


def asset_of(table: str) -> tuple[str, str]:
    """("schema", "table") of "schema.table"."""
    schema, name = table.split(".")
    return schema, name


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
    # Nulls last, as DuckDB sorts them by default (Spark puts them first): one order on both.
    order = ", ".join(f"{column} nulls last" for column in index_columns)
    return Rule(
        asset=asset_of(table),
        name=name,
        description=f"No {what} ({table}). Warns only: {consequence}.",
        sql=f"select {columns} from {table} where {condition} order by {order} limit {{limit}}",
        suite=lambda: no_rows_suite(f"{table}.{name}", what),
        index_columns=tuple(index_columns),
        blocking=False,
    )
