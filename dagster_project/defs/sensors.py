"""A sensor that starts the build when a new snapshot folder lands."""

import json

import dagster as dg

from dagster_project.defs.jobs import build_job
from dagster_project.defs.resources import BuildSettings
from dagster_project.lib.ingest import FileLevelError, list_snapshots


@dg.sensor(
    job=build_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Starts build_warehouse when a snapshot folder appears in the landing directory.",
)
def new_snapshot_sensor(context: dg.SensorEvaluationContext, settings: BuildSettings):
    try:
        snapshots = sorted(str(d) for d in list_snapshots(settings.landing))
    except FileLevelError as exc:
        return dg.SkipReason(str(exc))
    seen = set(json.loads(context.cursor)) if context.cursor else set()
    new = [s for s in snapshots if s not in seen]
    if not new:
        return dg.SkipReason(f"no new snapshot folder in {settings.landing}")
    context.update_cursor(json.dumps(snapshots))
    # One run for every new folder found at once: the build ingests all of them.
    return dg.RunRequest(
        run_key=f"snapshots-{new[-1]}-{len(snapshots)}", tags={"snapshots": ",".join(new)}
    )
