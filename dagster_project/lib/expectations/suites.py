"""The Great Expectations suites the rules judge their frames with: a raw object's rows, an
empty frame, and a reconciliation's columns (exactly 0, at least a minimum, or within a
tolerance)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagster_project.lib.crm_schema import CrmObject
from dagster_project.lib.expectations.engine import context, gx_modules

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite


def _suite(name: str, expectations: list) -> ExpectationSuite:
    gx, _ = gx_modules()
    context()  # a suite needs an active context
    suite = gx.ExpectationSuite(name=name)
    for expectation in expectations:
        suite.add_expectation(expectation)
    return suite


def raw_object_suite(obj: CrmObject) -> ExpectationSuite:
    """One CRM object's rows: required columns present and filled, Ids unique, picklists
    within their values (SPEC 2). Ingest rejects such rows; this proves raw holds none."""
    _, gxe = gx_modules()
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
    _, gxe = gx_modules()
    return _suite(name, [gxe.ExpectTableRowCountToEqual(value=0, description=what)])


def _zero(gxe, columns: dict[str, str]) -> list:
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
    return expectations


def _at_least(gxe, minimums: dict[str, tuple[float, str]]) -> list:
    return [
        gxe.ExpectColumnValuesToBeBetween(column=column, min_value=minimum, description=what)
        for column, (minimum, what) in minimums.items()
    ]


def _within_tolerance(gxe, pairs: dict[str, tuple[str, str]]) -> list:
    return [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=tolerance,
            column_B=difference,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            description=what,
        )
        for difference, (tolerance, what) in pairs.items()
    ]


def reconciliation_suite(
    name: str,
    zero: dict[str, str] | None = None,
    tolerance: dict[str, tuple[str, str]] | None = None,
    minimums: dict[str, tuple[float, str]] | None = None,
) -> ExpectationSuite:
    """A reconciliation's frame: `zero` columns (→ what they mean) are exactly 0, nulls
    failing too; each `tolerance` difference column (→ (tolerance column, what it means))
    is within its tolerance; each `minimums` column (→ (minimum, what it means)) is at
    least its minimum, nulls not judged."""
    _, gxe = gx_modules()
    return _suite(
        name,
        _zero(gxe, zero or {})
        + _within_tolerance(gxe, tolerance or {})
        + _at_least(gxe, minimums or {}),
    )
