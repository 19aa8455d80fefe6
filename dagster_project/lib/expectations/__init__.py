"""Great Expectations checks of the warehouse, and the set-based SQL that feeds them (SPEC 8).

A 200M-row schedule mart would not fit in memory as a DataFrame, so every rule has two
halves: SQL that reduces the table, set-based in DuckDB (or Spark, SPEC 8), to a bounded
frame of its worst rows, and a GX suite that judges that frame (rules.py). engine.py runs
GX, messages.py words its failures, suites.py holds the suites, raw.py and marts.py the
rules, sql/ the reconciliations' SQL. Plain Python: no Dagster import.
"""

from dagster_project.lib.crm_schema import OBJECTS
from dagster_project.lib.expectations.engine import FRAME_ROWS, Outcome, preload, validate_frame
from dagster_project.lib.expectations.marts import mart_rules
from dagster_project.lib.expectations.raw import raw_rules
from dagster_project.lib.expectations.rules import Rule, run_rule, run_rule_on_spark, set_as_of
from dagster_project.lib.expectations.suites import (
    no_rows_suite,
    raw_object_suite,
    reconciliation_suite,
)


def all_rules() -> list[Rule]:
    """Every rule: the raw objects' (latest snapshot) and the marts'."""
    return [rule for obj in OBJECTS for rule in raw_rules(obj)] + mart_rules()


__all__ = [
    "FRAME_ROWS",
    "Outcome",
    "Rule",
    "all_rules",
    "mart_rules",
    "no_rows_suite",
    "preload",
    "raw_object_suite",
    "raw_rules",
    "reconciliation_suite",
    "run_rule",
    "run_rule_on_spark",
    "set_as_of",
    "validate_frame",
]
