"""Run the build job in process, as the schedule does, with a progress display and a summary."""

import io
import json
import os
import shutil
import sys
import time
import uuid
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
from rich.console import Console

from dagster_project.lib.build_filter import (
    DEFAULT_BUILD_FILTER,
    BuildFilterError,
    validate_build_filter,
)
from dagster_project.lib.child_process import child_environment
from dagster_project.lib.ingest.errors import FileLevelError
from dagster_project.lib.ingest.landing import scan_landing
from dagster_project.lib.outputs import (
    OutputPathError,
    check_output_path,
    console_text,
    describe_os_error,
)
from dagster_project.lib.raw_store import rows_per_object
from dagster_project.lib.report import report_path
from dagster_project.lib.settings import SettingError, check_dbt_vars
from dagster_project.lib.warehouse import (
    PARTIAL_PARSE,
    build_lock,
    dbt_environment,
    dbt_target_dir,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_LANDING = REPO_ROOT / "seeds" / "demo"
DEFAULT_WAREHOUSE = REPO_ROOT / "data" / "warehouse.duckdb"
JOB_NAME = "build_warehouse"


class BuildError(Exception):
    """A build that did not publish; the message says why, in words a person can act on."""


@dataclass
class BuildSummary:
    warehouse: Path
    seconds: float
    snapshots: list[str] = field(default_factory=list)
    loads: list[tuple[str, int, int]] = field(default_factory=list)  # object, loaded, rejected
    marts: list[tuple[str, int]] = field(default_factory=list)  # mart, rows
    step_seconds: dict[str, float] = field(default_factory=dict)  # Dagster step, wall time
    warnings: list[str] = field(default_factory=list)  # non-blocking checks that failed
    report: Path | None = None  # the finance report written beside the warehouse


def build_log_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".build.log")


def build_settings(
    landing: Path,
    warehouse: Path,
    as_of: date | None,
    build_filter: str | None = None,
    dbt_vars: dict[str, object] | None = None,
    accepted_snapshots: list[date] | None = None,
) -> dict[str, str]:
    """The BuildSettings resource's fields (defs/resources.py) for these flags."""
    return {
        "landing_dir": str(landing),
        "warehouse_path": str(warehouse),
        "as_of_date": as_of.isoformat() if as_of else "",
        "dbt_vars_json": json.dumps(dbt_vars or {}),
        "subscription_build_filter": build_filter or DEFAULT_BUILD_FILTER,
        "accepted_snapshots": ",".join(d.isoformat() for d in accepted_snapshots or []),
    }


def configure_environment(landing: Path, warehouse: Path) -> None:
    """The code location's settings in this process's environment, for the Dagster
    processes `recurwise ui` starts (a run of theirs may still override them)."""
    from dagster_project.defs.resources import SETTINGS_ENVIRONMENT

    for field_name, value in build_settings(landing, warehouse, None).items():
        os.environ[SETTINGS_ENVIRONMENT[field_name]] = value


def _manifest_is_current(manifest: Path, project_dir: Path) -> bool:
    """True when target/manifest.json is newer than every file and folder of the dbt
    project and its seed folder (../seeds/reference; a folder's time changes when a file
    in it is added, removed or renamed) and than uv.lock (dbt or dagster-dbt upgraded)."""
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    skipped = {"target", "logs", "dbt_packages"}
    sources = [project_dir, project_dir.parent / "seeds" / "reference"]
    paths = [project_dir.parent / "uv.lock", *sources]
    for folder in sources:
        paths += [
            path for path in folder.rglob("*") if skipped.isdisjoint(path.relative_to(folder).parts)
        ]
    return all(path.stat().st_mtime <= built for path in paths if path.exists())


def prepare_dbt_manifest(warehouse: Path | None = None) -> None:
    """dagster-dbt loads the models from target/manifest.json: parse the project first,
    unless the manifest is newer than every project file (saves a `dbt parse`, ~6 s).

    Given the build's `warehouse` (a build without dbt variables), a parse made here has
    the build's dbt profile, so the build's first dbt invocation
    starts from it instead of parsing again (defs/dbt.py takes the newest parse of the
    warehouse).
    """
    from dagster_project.dbt_project import DBT_PROJECT_DIR, dbt_project

    # The preparer runs `dbt` from PATH, here and in the UI's code server (started from
    # this process): use this environment's, even when it is not activated.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    if _manifest_is_current(dbt_project.manifest_path, DBT_PROJECT_DIR):
        return
    with child_environment(dbt_environment(warehouse) if warehouse else {}):
        dbt_project.preparer.prepare(dbt_project)
    if warehouse is not None:
        start = dbt_target_dir(warehouse) / "start_of_build"
        start.mkdir(parents=True, exist_ok=True)
        shutil.copy2(dbt_project.manifest_path.with_name(PARTIAL_PARSE), start / PARTIAL_PARSE)


def load_definitions():
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
) -> BuildSummary:
    """Ingest every snapshot of `landing`, build and check everything, publish `warehouse`.

    `accepted_snapshots`: snapshot dates a person checked, published past the delivery
    gates (SPEC 3)."""

    console = console or Console(stderr=True, emoji=False)
    landing, warehouse = landing.resolve(), warehouse.resolve()
    if not landing.is_dir():
        raise BuildError(f"landing directory {landing} does not exist")
    if warehouse.is_dir():
        raise BuildError(f"warehouse path {warehouse} is a directory; give a file name")
    for folder in (warehouse.parent, *warehouse.parent.parents):
        if folder.exists() and not folder.is_dir():
            raise BuildError(f"warehouse path {warehouse}: {folder} is a file, not a folder")
    try:
        check_output_path(warehouse, landing=[landing])
        check_output_path(report_path(warehouse), landing=[landing])
    except OutputPathError as exc:
        raise BuildError(str(exc)) from None
    if build_filter is not None:
        try:
            validate_build_filter(build_filter)
        except BuildFilterError as exc:
            raise BuildError(str(exc)) from None
    try:
        # Every landing folder is a snapshot partition; this run loads them all at once.
        found = scan_landing(landing)
        snapshot_keys = [d.isoformat() for d in found.snapshots]
        ignored = found.warnings
    except FileLevelError as exc:
        raise BuildError(str(exc)) from None
    if dbt_vars is not None:
        try:
            dbt_vars = check_dbt_vars(dbt_vars)
        except SettingError as exc:
            raise BuildError(str(exc)) from None
    try:
        summary = _build_and_publish(
            landing, warehouse, as_of, console, build_filter, dbt_vars, snapshot_keys,
            accepted_snapshots or [],
        )  # fmt: skip
    except OSError as exc:
        # A full disk, a permission denied: the published file is only ever replaced by
        # a finished work file, so it is as it was.
        raise BuildError(
            f"build failed, the published warehouse was left as it was: {describe_os_error(exc)}"
        ) from None
    summary.warnings[:0] = ignored  # folders and files the build did not load, first
    return summary


def _build_and_publish(
    landing: Path,
    warehouse: Path,
    as_of: date | None,
    console: Console,
    build_filter: str | None,
    dbt_vars: dict[str, object] | None,
    snapshot_keys: list[str],
    accepted_snapshots: list[date],
) -> BuildSummary:
    import dagster as dg

    started = time.monotonic()
    # Held from before the dbt parse and the build log (both beside the warehouse) to the
    # end: a refused build touches neither. The run's resource takes it again (re-entrant
    # in one process), as a run the schedule, the sensor or the UI starts takes it.
    with build_lock(warehouse):
        settings = build_settings(
            landing, warehouse, as_of, build_filter, dbt_vars, accepted_snapshots
        )
        with console.status("Parsing the dbt project"):
            # With dbt variables (--set, --as-of) the invocations' parse differs from this one
            # (dbt keys a parse on them): they keep their own.
            prepare_dbt_manifest(None if dbt_vars or as_of else warehouse)
            job = load_definitions().resolve_job_def(JOB_NAME)
            from dagster_project.defs.ingest import snapshot_partitions
        instance = dg.DagsterInstance.ephemeral()
        instance.add_dynamic_partitions(snapshot_partitions.name, snapshot_keys)
        run_id = str(uuid.uuid4())
        progress = _Progress(console)
        instance.add_event_listener(run_id, progress.on_event)
        log_path = build_log_path(warehouse)
        # dbt's own output goes to the build log; the console shows progress only. The run
        # sets up its work file itself (defs/resources.py).
        with console.status("Building") as status, _BuildLog(log_path) as log, redirect_stdout(log):
            progress.status = status
            result = job.execute_in_process(
                run_config={
                    "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
                    "resources": {"settings": {"config": settings}},
                },
                instance=instance,
                run_id=run_id,
                tags={
                    "dagster/asset_partition_range_start": snapshot_keys[0],
                    "dagster/asset_partition_range_end": snapshot_keys[-1],
                },
                raise_on_error=False,
            )
        if progress.refusal is not None:
            # Another build holds the warehouse, or a held work file: nothing was started.
            raise BuildError(progress.refusal)
        if not result.success:
            failures = progress.failures or ["unknown failure"]
            if log.lost is not None:
                # Likely the cause of the rest (a full disk): said first.
                failures.insert(0, f"the build log could not be written: {log.lost}")
            raise BuildError(
                "build failed, the published warehouse was left as it was:\n  "
                + "\n  ".join(failures)
                + f"\n  (full log: {log_path})"
            )
    summary = BuildSummary(
        warehouse=warehouse,
        seconds=time.monotonic() - started,
        step_seconds=progress.seconds,
        warnings=progress.warnings,
        report=report_path(warehouse) if progress.report_written else None,
    )
    _fill_summary(summary)
    return summary


class _BuildLog(io.TextIOWrapper):
    """The build log: a full disk or a lost file ends the log, not the build's message.

    Its text goes nowhere once a write fails (dbt's streamed output would otherwise raise
    inside dagster-dbt and print a traceback); `lost` says why, for the failure message.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path.open("wb"), encoding="utf-8", line_buffering=False)
        self.lost: str | None = None

    def write(self, text: str) -> int:
        if self.lost is None:
            try:
                return super().write(text)
            except OSError as exc:
                self.lost = describe_os_error(exc)
        return len(text)

    def flush(self) -> None:
        if self.lost is None:
            try:
                super().flush()
            except OSError as exc:
                self.lost = describe_os_error(exc)

    def close(self) -> None:
        try:
            super().close()
        except OSError as exc:
            self.lost = self.lost or describe_os_error(exc)


class _Progress:
    """Prints one line per finished step and keeps the spinner on the running one."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.status = None
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self.failures: list[str] = []
        # Failed blocking checks per step: the step failure names them but not why.
        self.failed_checks: dict[str, list[str]] = {}
        self.warnings: list[str] = []
        self.models_done = 0
        self.refusal: str | None = None  # why the run did not start (the build lock)
        self.report_written = False
        from dagster_project.defs.report import REPORT_KEY  # with Dagster, when a build runs

        self.report_key = REPORT_KEY

    def on_event(self, record) -> None:
        event = record.dagster_event
        if event is None:
            return
        step = event.step_key or ""
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[step] = time.monotonic()
            if self.status is not None:
                self.status.update(f"Running {console_text(step)}")
        elif kind == "ASSET_MATERIALIZATION" and event.asset_key == self.report_key:
            self.report_written = True
        elif kind == "ASSET_MATERIALIZATION" and "dbt_models" in step:
            self.models_done += 1
            if self.status is not None:
                key = event.asset_key.to_user_string() if event.asset_key else ""
                self.status.update(f"dbt: {self.models_done} models built ({console_text(key)})")
        elif kind == "STEP_SUCCESS":
            seconds = time.monotonic() - self.started.get(step, time.monotonic())
            self.seconds[step] = seconds
            self.console.print(f"[green]✓[/] {console_text(step)} [dim]({seconds:.1f}s)[/]")
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.asset_check_evaluation_data
            if not evaluation.passed:
                message = (
                    f"check {evaluation.check_name} of {evaluation.asset_key.to_user_string()} "
                    f"failed: {evaluation.description or 'no description'}"
                )
                # Dagster may deliver an evaluation to the listener twice (seen once in a
                # demo build): a check is reported once.
                if evaluation.severity.value == "ERROR":
                    failed = self.failed_checks.setdefault(step, [])
                    if message not in failed:
                        failed.append(message)
                elif message not in self.warnings:
                    self.warnings.append(message)
        elif kind == "RESOURCE_INIT_FAILURE":
            # The build lock, a run of part of the warehouse and the work copy (a full
            # disk, a work file held by another process) fail here, before any step.
            error = _innermost_error(event.engine_event_data)
            message = error.message.strip() if error is not None else "failed"
            if error is not None and error.cls_name in ("BuildLockedError", "PartialRunError"):
                # "dagster_project.lib.warehouse.BuildLockedError: another build ...": the words.
                self.refusal = message.split(f"{error.cls_name}: ", 1)[-1]
            else:
                self.failures.append(f"setting up the build: {message}")
        elif kind == "STEP_FAILURE":
            self.console.print(f"[red]✗[/] {console_text(step)}")
            if step in self.failed_checks:
                self.failures.extend(self.failed_checks.pop(step))
            else:
                self.failures.append(f"{step}: {_failure_message(event)}")


def _failure_message(event) -> str:
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    return _innermost(data)


def _innermost_error(data):
    """The innermost error of a failure event's data (the real cause), or None."""
    error = data.error
    while error is not None and error.cause is not None:
        error = error.cause
    return error


def _innermost(data) -> str:
    """The message of the innermost error of a failure event's data."""
    error = _innermost_error(data)
    return error.message.strip() if error is not None else "failed"


def _fill_summary(summary: BuildSummary) -> None:
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
