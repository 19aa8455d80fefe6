"""Failure descriptions: what a failed expectation says to the person who reads the build's
error, quoting the key and the offending values of its worst rows (never whole lines)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# Failing rows quoted in a failure summary, per expectation.
EXAMPLES = 3


def describe_failure(
    result, data: pd.DataFrame, index_columns: Sequence[str], truncated: bool
) -> str:
    """One failed expectation result as a sentence: what failed, how many rows, examples.

    `truncated`: the frame was cut at its row bound, so a count may be "at least".
    """
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
