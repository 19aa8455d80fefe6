"""Run the build job in process, as the schedule does, with a progress display and a summary."""

import shutil
import time
import uuid
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rich.console import Console

from dagster_project.build.environment import SparkOptions, build_settings
from dagster_project.build.errors import BuildError, UsageError
from dagster_project.build.log import BuildLog, build_log_path
from dagster_project.build.manifest import prepare_dbt_manifest
from dagster_project.build.progress import Progress
from dagster_project.build.summary import BuildSummary, fill_summary
from dagster_project.lib.build_filter import BuildFilterError, validate_build_filter
from dagster_project.lib.ingest.errors import FileLevelError
from dagster_project.lib.ingest.landing import scan_landing
from dagster_project.lib.lakehouse import (
    MARTS,
    driver_memory_problem,
    is_remote,
    spark_master_problem,
    warehouse_file,
)
from dagster_project.lib.outputs import OutputPathError, check_output_path, describe_os_error
from dagster_project.lib.report import report_path
from dagster_project.lib.settings import SettingError, check_dbt_vars
from dagster_project.lib.warehouse import build_lock

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_LANDING = REPO_ROOT / "seeds" / "demo"
DEFAULT_WAREHOUSE = REPO_ROOT / "data" / "warehouse.duckdb"
JOB_NAME = "build_warehouse"


@dataclass(frozen=True)
class BuildRequest:
    """One build's input, checked: what to load, where to publish, and with which settings."""

    landing: Path
    warehouse: Path
    as_of: date | None
    build_filter: str | None
    dbt_vars: dict[str, object] | None
    accepted_snapshots: list[date]
    spark: SparkOptions | None
    snapshot_keys: list[str]  # every landing folder is a snapshot partition
    ignored: list[str]  # folders and files of the landing the build does not load


def load_definitions():
    """The code location's one Definitions (imports Dagster and every defs module)."""
    from dagster_project.definitions import defs

    return defs()


def run_build(
    landing: Path,
    warehouse: Path,
    as_of: date | None = None,
    console: Console | None = None,
    build_filter: str | None = None,
    dbt_vars: dict[str, object] | None = None,
    accepted_snapshots: list[date] | None = None,
    spark: SparkOptions | None = None,
) -> BuildSummary:
    """Ingest every snapshot of `landing`, build and check everything, publish `warehouse`.

    `accepted_snapshots`: snapshot dates a person checked, published past the delivery
    gates (SPEC 3). `spark`: build on the Spark engine into its lakehouse (SPEC 8);
    `warehouse` is then the lakehouse's warehouse.duckdb (lakehouse_warehouse). Input it
    cannot use raises `UsageError` before anything starts; a build that does not publish
    raises `BuildError`."""
    console = console or Console(stderr=True, emoji=False)
    request = check_request(
        landing, warehouse, as_of, build_filter, dbt_vars, accepted_snapshots or [], spark
    )
    try:
        summary = _build_and_publish(request, console)
    except OSError as exc:
        # A full disk, a permission denied: the published file is only ever replaced by
        # a finished work file, so it is as it was.
        raise BuildError(
            f"build failed, the published warehouse was left as it was: {describe_os_error(exc)}"
        ) from None
    summary.warnings[:0] = request.ignored  # folders and files the build did not load, first
    return summary


def check_request(
    landing: Path,
    warehouse: Path,
    as_of: date | None,
    build_filter: str | None,
    dbt_vars: dict[str, object] | None,
    accepted_snapshots: list[date],
    spark: SparkOptions | None = None,
) -> BuildRequest:
    """The build's input checked before any lock, file or process: a `UsageError` naming
    the path, the filter or the setting it cannot use."""
    landing, warehouse = landing.resolve(), warehouse.resolve()
    if not landing.is_dir():
        raise UsageError(f"landing directory {landing} does not exist")
    if spark is not None:
        spark = _check_spark(spark, landing)
    if warehouse.is_dir():
        raise UsageError(f"warehouse path {warehouse} is a directory; give a file name")
    for folder in (warehouse.parent, *warehouse.parent.parents):
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"warehouse path {warehouse}: {folder} is a file, not a folder")
    try:
        check_output_path(warehouse, landing=[landing])
        check_output_path(report_path(warehouse), landing=[landing])
        if build_filter is not None:
            validate_build_filter(build_filter)
        found = scan_landing(landing)
        if dbt_vars is not None:
            dbt_vars = check_dbt_vars(dbt_vars)
    except (OutputPathError, BuildFilterError, FileLevelError, SettingError) as exc:
        raise UsageError(str(exc)) from None
    return BuildRequest(
        landing, warehouse, as_of, build_filter, dbt_vars, accepted_snapshots, spark,
        snapshot_keys=[d.isoformat() for d in found.snapshots], ignored=found.warnings,
    )  # fmt: skip


def lakehouse_warehouse(lakehouse: Path) -> Path:
    """The DuckDB file of a Spark build's lakehouse: raw versions and views over its marts."""
    return warehouse_file(lakehouse.resolve())


def _check_spark(spark: SparkOptions, landing: Path) -> SparkOptions:
    lakehouse = spark.lakehouse.resolve()
    if lakehouse.exists() and not lakehouse.is_dir():
        raise UsageError(f"lakehouse {lakehouse} is a file; give a folder")
    try:
        check_output_path(lakehouse / MARTS, landing=[landing])
    except OutputPathError as exc:
        raise UsageError(str(exc)) from None
    if problem := spark_master_problem(spark.master):
        raise UsageError(problem)
    if problem := driver_memory_problem(spark.master):
        raise UsageError(problem)
    if not is_remote(spark.master) and shutil.which("java") is None:
        raise UsageError(
            "the Spark engine runs a local Spark session, which needs Java 17 (no `java` "
            "on PATH); install a JDK, or give --spark-master sc://host:port of a cluster"
        )
    return SparkOptions(lakehouse, spark.master)


def _build_and_publish(request: BuildRequest, console: Console) -> BuildSummary:
    started = time.monotonic()
    # Held from before the dbt parse and the build log (both beside the warehouse) to the
    # end: a refused build touches neither. The run's resource takes it again (re-entrant
    # in one process), as a run the schedule, the sensor or the UI starts takes it.
    with build_lock(request.warehouse):
        progress, log, success = _execute(request, console)
        if progress.refusal is not None:
            # Another build holds the warehouse, or a held work file: nothing was started.
            raise BuildError(progress.refusal)
        if not success:
            failures = progress.failures or ["unknown failure"]
            if log.lost is not None:
                # Likely the cause of the rest (a full disk): said first.
                failures.insert(0, f"the build log could not be written: {log.lost}")
            raise BuildError(
                "build failed, the published warehouse was left as it was:\n  "
                + "\n  ".join(failures)
                + f"\n  (full log: {build_log_path(request.warehouse)})"
            )
    summary = BuildSummary(
        warehouse=request.warehouse,
        seconds=time.monotonic() - started,
        step_seconds=progress.seconds,
        warnings=progress.warnings,
        report=report_path(request.warehouse) if progress.report_written else None,
    )
    fill_summary(summary)
    return summary


def _execute(request: BuildRequest, console: Console) -> tuple[Progress, BuildLog, bool]:
    """The job run in this process on an ephemeral instance: what it showed, its log, and
    whether it succeeded."""
    import dagster as dg

    settings = build_settings(
        request.landing, request.warehouse, request.as_of, request.build_filter,
        request.dbt_vars, request.accepted_snapshots, request.spark,
    )  # fmt: skip
    with console.status("Parsing the dbt project"):
        # With dbt variables (--set, --as-of) the invocations' parse differs from this one
        # (dbt keys a parse on them): they keep their own.
        prepare_dbt_manifest(None if request.dbt_vars or request.as_of else request.warehouse)
        job = load_definitions().resolve_job_def(JOB_NAME)
        from dagster_project.defs.ingest import snapshot_partitions
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(snapshot_partitions.name, request.snapshot_keys)
    run_id = str(uuid.uuid4())
    progress = Progress(console)
    instance.add_event_listener(run_id, progress.on_event)
    # dbt's own output goes to the build log; the console shows progress only. The run
    # sets up its work file itself (defs/resources.py).
    with (
        console.status("Building") as status,
        BuildLog(build_log_path(request.warehouse)) as log,
        redirect_stdout(log),
    ):
        progress.status = status
        result = job.execute_in_process(
            run_config={
                "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
                "resources": {"settings": {"config": settings}},
            },
            instance=instance,
            run_id=run_id,
            tags={
                "dagster/asset_partition_range_start": request.snapshot_keys[0],
                "dagster/asset_partition_range_end": request.snapshot_keys[-1],
            },
            raise_on_error=False,
        )
    return progress, log, result.success
