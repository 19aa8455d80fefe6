"""The delivery gates of SPEC 3: what stops a snapshot from being published unread."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ..crm_schema import CrmObject
from .load import LoadResult


@dataclass(frozen=True)
class DeliveryLimits:
    """The delivery gates of SPEC 3, from the settings max_row_drop_pct and max_reject_pct."""

    max_row_drop_pct: float = 50
    max_reject_pct: float = 5


def delivery_problems(
    con: duckdb.DuckDBPyConnection, obj: CrmObject, result: LoadResult, limits: DeliveryLimits
) -> list[str]:
    """Why a snapshot just loaded must not be published without a person's word (SPEC 3):
    a required object without rows, rows falling by more than the limit against the
    previous snapshot, or more than the limit of a file's rows rejected."""
    day = f"{obj.name}, snapshot {result.snapshot_date}"
    source = result.source_file or f"no {obj.name} file"
    problems = []
    if not obj.optional and result.rows_in_file == 0:
        problems.append(f"{day}: {source} has no rows (a required object must have rows)")
    if (
        result.rows_in_file
        and result.rows_rejected * 100 > limits.max_reject_pct * result.rows_in_file
    ):
        problems.append(
            f"{day}: {result.rows_rejected:,} of {result.rows_in_file:,} rows of {source} "
            f"rejected ({100 * result.rows_rejected / result.rows_in_file:.0f}%, more than "
            f"max_reject_pct {limits.max_reject_pct:g}%); see raw.rejects"
        )
    # Against the snapshots either side (a backfilled day has a later one already loaded).
    for side, order in (("<", "desc"), (">", "asc")):
        neighbour = con.execute(
            "select snapshot_date, rows_loaded from raw._loads where object_name = ? "
            f"and snapshot_date {side} ? order by snapshot_date {order} limit 1",
            [obj.name, result.snapshot_date],
        ).fetchall()
        if not neighbour:
            continue
        other_date, other = neighbour[0]
        if other and (other - result.rows_loaded) * 100 > limits.max_row_drop_pct * other:
            problems.append(
                f"{day}: {result.rows_loaded:,} rows loaded, {other:,} on {other_date} "
                f"(down {100 * (other - result.rows_loaded) / other:.0f}%, more than "
                f"max_row_drop_pct {limits.max_row_drop_pct:g}%)"
            )
    return problems
