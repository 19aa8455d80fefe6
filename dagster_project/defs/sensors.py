"""Automation: a sensor that builds new snapshot folders, and the daily schedule."""

import dagster as dg

from dagster_project.defs.ingest import snapshot_partitions
from dagster_project.defs.jobs import build_job
from dagster_project.defs.resources import BuildSettings
from dagster_project.lib.ingest import FileLevelError, list_snapshots


@dg.sensor(
    job=build_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Adds a snapshot partition for every new landing folder and starts build_warehouse "
        "for the new ones (one run for all folders found at once)."
    ),
)
def new_snapshot_sensor(context: dg.SensorEvaluationContext, settings: BuildSettings):
    try:
        landing = sorted(d.isoformat() for d in list_snapshots(settings.landing))
    except FileLevelError as exc:
        return dg.SkipReason(str(exc))
    known = set(context.instance.get_dynamic_partitions(snapshot_partitions.name))
    new = [key for key in landing if key not in known]
    if not new:
        return dg.SkipReason(f"no new snapshot folder in {settings.landing}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"snapshots-{new[0]}-{new[-1]}",
                tags={
                    "dagster/asset_partition_range_start": new[0],
                    "dagster/asset_partition_range_end": new[-1],
                },
            )
        ],
        dynamic_partitions_requests=[snapshot_partitions.build_add_request(new)],
    )


@dg.schedule(
    job=build_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    description=(
        "Daily build after the CRM's nightly export: rebuilds the latest snapshot partition "
        "(files already loaded are skipped) and every model and check on top of it."
    ),
)
def daily_build(context: dg.ScheduleEvaluationContext):
    snapshots = sorted(context.instance.get_dynamic_partitions(snapshot_partitions.name))
    if not snapshots:
        return dg.SkipReason("no snapshot partition yet; the sensor adds them as folders land")
    return dg.RunRequest(
        run_key=f"daily-{context.scheduled_execution_time:%Y-%m-%d}", partition_key=snapshots[-1]
    )
