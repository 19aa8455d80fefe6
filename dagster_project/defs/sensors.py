"""Automation: the sensor builds new snapshot folders within minutes; the daily schedule
builds every folder the published warehouse does not hold yet.

Both run by default wherever a Dagster daemon runs the code location (`recurwise ui`
starts one). Each asks for one run of build_warehouse over the snapshot partitions it
found; runs of one warehouse never overlap (WorkWarehouse's build lock, and the
concurrency pool the instance limits to one run).
"""

from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.defs.ingest import snapshot_partitions
from dagster_project.defs.jobs import build_job
from dagster_project.defs.resources import BuildSettings
from dagster_project.lib.ingest.errors import FileLevelError
from dagster_project.lib.ingest.landing import list_snapshots


def landing_snapshots(settings: BuildSettings) -> list[str] | dg.SkipReason:
    """The snapshot dates (YYYY-MM-DD) of the landing folder, or why there are none."""
    try:
        return sorted(d.isoformat() for d in list_snapshots(settings.landing))
    except FileLevelError as exc:
        return dg.SkipReason(str(exc))


def published_snapshots(warehouse: Path) -> set[str]:
    """The snapshot dates the published warehouse holds (none before its first build)."""
    if not warehouse.is_file():
        return set()
    # Read-only: analysts and a running build's publish are never in the way of a reader.
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select snapshot_date from raw.snapshots").fetchall()
    return {str(row[0]) for row in rows}


def range_request(known: list[str], new: list[str], build: list[str], run_key: str):
    """One run of build_warehouse over the partitions `build`: a range from its first to
    its last partition in the partitions' own order (the `known` ones, then the `new`
    ones appended in this order)."""
    order = {key: index for index, key in enumerate([*known, *new])}
    build = sorted(build, key=order.__getitem__)
    return dg.RunRequest(
        run_key=run_key,
        tags={
            "dagster/asset_partition_range_start": build[0],
            "dagster/asset_partition_range_end": build[-1],
        },
    )


@dg.sensor(
    job=build_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Every minute: adds a snapshot partition for every new landing folder and starts "
        "build_warehouse for the new ones (one run for all folders found at once)."
    ),
)
def new_snapshot_sensor(context: dg.SensorEvaluationContext, settings: BuildSettings):
    landing = landing_snapshots(settings)
    if isinstance(landing, dg.SkipReason):
        return landing
    known = context.instance.get_dynamic_partitions(snapshot_partitions.name)
    new = [key for key in landing if key not in set(known)]
    if not new:
        return dg.SkipReason(f"no new snapshot folder in {settings.landing}")
    return dg.SensorResult(
        run_requests=[range_request(known, new, new, f"snapshots-{new[0]}-{new[-1]}")],
        dynamic_partitions_requests=[snapshot_partitions.build_add_request(new)],
    )


@dg.schedule(
    job=build_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Daily after the CRM's nightly export: builds every landing folder the published "
        "warehouse does not hold yet (new ones the sensor has not seen, and days whose "
        "build failed, such as a delivery held by a gate), and skips when there is none."
    ),
)
def daily_build(context: dg.ScheduleEvaluationContext, settings: BuildSettings):
    landing = landing_snapshots(settings)
    if isinstance(landing, dg.SkipReason):
        return landing
    try:
        published = published_snapshots(settings.warehouse)
    except duckdb.Error as exc:
        return dg.SkipReason(f"cannot read the published warehouse {settings.warehouse}: {exc}")
    pending = [key for key in landing if key not in published]
    if not pending:
        return dg.SkipReason(
            f"the published warehouse holds every snapshot folder of {settings.landing}"
        )
    known = context.instance.get_dynamic_partitions(snapshot_partitions.name)
    new = [key for key in landing if key not in set(known)]
    # A schedule cannot ask the daemon to add partitions (a sensor can): it adds them.
    if new:
        context.instance.add_dynamic_partitions(snapshot_partitions.name, new)
    run_key = f"daily-{context.scheduled_execution_time:%Y-%m-%d}"
    return range_request(known, new, pending, run_key)


@dg.definitions
def automation() -> dg.Definitions:
    return dg.Definitions(sensors=[new_snapshot_sensor], schedules=[daily_build])
