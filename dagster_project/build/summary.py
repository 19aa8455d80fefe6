"""What a finished build holds, read back from the published warehouse for the summary."""

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project.lib.raw_store import rows_per_object


@dataclass
class BuildSummary:
    """What a finished build published, for the summary `recurwise build` prints."""

    warehouse: Path
    seconds: float
    snapshots: list[str] = field(default_factory=list)
    loads: list[tuple[str, int, int]] = field(default_factory=list)  # object, loaded, rejected
    marts: list[tuple[str, int]] = field(default_factory=list)  # mart, rows
    step_seconds: dict[str, float] = field(default_factory=dict)  # Dagster step, wall time
    warnings: list[str] = field(default_factory=list)  # non-blocking checks that failed
    report: Path | None = None  # the finance report written beside the warehouse


def fill_summary(summary: BuildSummary) -> None:
    """The snapshots, rows per object and marts of the published warehouse, into `summary`."""
    with duckdb.connect(str(summary.warehouse), read_only=True) as con:
        summary.snapshots = [
            str(r[0])
            for r in con.execute("select snapshot_date from raw.snapshots order by 1").fetchall()
        ]
        summary.loads = rows_per_object(con)
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "order by 1"
            ).fetchall()
        ]
        summary.marts = [
            (t, con.execute(f'select count(*) from marts."{t}"').fetchone()[0]) for t in tables
        ]
