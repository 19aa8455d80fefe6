"""Resources of the build: its settings, and the work file every asset of a run writes to."""

import json
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import duckdb
from pydantic import PrivateAttr

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

from dagster_project.lib.build_filter import DEFAULT_BUILD_FILTER
from dagster_project.lib.lakehouse import (
    LOCAL_MASTER,
    build_folder,
    discard_build_folder,
    driver_memory_problem,
    spark_master_problem,
    start_build_folder,
    warehouse_file,
)
from dagster_project.lib.settings import SettingError, check_dbt_vars, dbt_defaults, quoted
from dagster_project.lib.warehouse import (
    build_lock,
    dbt_target_dir,
    discard_work_file,
    duckdb_settings,
    start_work_copy,
    work_path,
)

DUCKDB, SPARK = "duckdb", "spark"
ENGINES = (DUCKDB, SPARK)

# Every asset and check of a build is in this pool. The instance `recurwise ui` sets up
# limits it to one run at a time (run granularity), so the daemon queues a second run
# instead of starting it; the build lock (WorkWarehouse) covers runs outside the daemon.
WAREHOUSE_POOL = "recurwise_warehouse"


class BuildSettings(dg.ConfigurableResource):
    """Paths, as-of date and build filter of a build; `recurwise` sets them from its flags."""

    landing_dir: str
    warehouse_path: str
    as_of_date: str = ""  # empty = the latest snapshot date
    # Other dbt vars of dbt_project.yml (renewal horizon, lookback, ...) as a JSON object.
    dbt_vars_json: str = "{}"
    # SQL condition over stg_crm__opportunities choosing the builder's sources (SPEC 4.8).
    subscription_build_filter: str = DEFAULT_BUILD_FILTER
    # Snapshot dates (YYYY-MM-DD, comma-separated) a person accepted past the delivery gates.
    accepted_snapshots: str = ""
    # The engine of the models, the builder and the mart checks (SPEC 8): "duckdb" (the
    # work file), or "spark" (the lakehouse folder: lib/lakehouse.py; warehouse_path is
    # then its warehouse.duckdb) on spark_master, local[N] or sc://host:port (Spark Connect).
    engine: str = DUCKDB
    lakehouse_dir: str = ""
    spark_master: str = LOCAL_MASTER

    def dbt_vars(self) -> dict[str, object]:
        """The dbt vars of this build: the settings given on the command line, and as-of,
        each checked against its declared type (a run started from the UI or the sensor
        reads them from the environment, not from the `recurwise` command's flags)."""
        try:
            values = json.loads(self.dbt_vars_json or "{}")
        except json.JSONDecodeError:
            raise SettingError(
                "the build's settings (dbt_vars_json, RECURWISE_DBT_VARS) are not a JSON "
                f"object: {quoted(self.dbt_vars_json)}"
            ) from None
        if self.as_of_date and isinstance(values, dict):
            values = {**values, "as_of_date": self.as_of_date}
        return check_dbt_vars(values)

    def effective_settings(self) -> dict[str, object]:
        """Every setting of this build: dbt_project.yml's vars, overridden by this build's."""
        return {**dbt_defaults(), **self.dbt_vars()}

    def setting(self, name: str) -> object:
        """A setting of this build: given on the command line, else dbt_project.yml's."""
        values = self.dbt_vars()
        return values[name] if values.get(name) is not None else dbt_defaults()[name]

    @property
    def accepted_snapshot_dates(self) -> set[str]:
        return {d.strip() for d in self.accepted_snapshots.split(",") if d.strip()}

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def warehouse(self) -> Path:
        return Path(self.warehouse_path)

    @property
    def on_spark(self) -> bool:
        if self.engine not in ENGINES:
            raise SettingError(
                f"engine {quoted(self.engine)} is not one of {', '.join(ENGINES)} "
                "(RECURWISE_ENGINE, --engine)"
            )
        if self.engine != SPARK:
            return False
        if problem := spark_master_problem(self.spark_master):
            raise SettingError(f"{problem} (RECURWISE_SPARK_MASTER, --spark-master)")
        if problem := driver_memory_problem(self.spark_master):
            raise SettingError(problem)
        expected = warehouse_file(self.lakehouse)
        if not self.lakehouse_dir or self.warehouse.resolve() != expected.resolve():
            # The UI, the schedule and the sensor read both from the environment.
            raise SettingError(
                "on the Spark engine the warehouse is the lakehouse's warehouse.duckdb: set "
                f"RECURWISE_LAKEHOUSE to the lakehouse folder and RECURWISE_WAREHOUSE to "
                f"{quoted(str(expected))} (now {quoted(self.warehouse_path)})"
            )
        return True

    @property
    def lakehouse(self) -> Path:
        """The Spark engine's lakehouse folder."""
        return Path(self.lakehouse_dir)


class PartialRunError(Exception):
    """A run that would build only part of the warehouse (refused, see partial_run_problem)."""


def partial_run_problem(run: dg.DagsterRun | None) -> str | None:
    """Why `run` may not build the warehouse, or None for a run of the whole warehouse.

    A build works on a copy of the published file and publishes it only when every model
    and blocking check has passed, so a run that materializes some assets (a selection in
    the UI, "Execute checks", a re-execution of failed steps) would either publish a
    warehouse half of which is older than the rest, or throw its work away while its
    assets show as materialized. Decision (docs/operations.md): such a run is refused at
    its start with this message; every asset is always built together.
    """
    if run is None:
        return None
    how = (
        "launch the build_warehouse job (with a range of snapshot partitions for several "
        "days), or Materialize all for one snapshot"
    )
    if run.parent_run_id is not None and run.step_keys_to_execute is not None:
        return (
            "this run re-executes only some steps of a build; recurwise builds and publishes "
            f"the whole warehouse in one run: {how}"
        )
    if not run.asset_selection:
        # A run of the whole job has no selection (None, or empty in execute_in_process);
        # one that runs checks only ("Execute checks" in the UI) selects checks alone.
        if run.asset_check_selection:
            return (
                "this run executes checks only; the checks run on a build's work file, in "
                f"the run that builds the warehouse: {how}"
            )
        return None
    from dagster_project.definitions import defs  # the code location this run belongs to

    graph = defs().resolve_asset_graph()
    assets = {key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    missing = assets - set(run.asset_selection)
    if run.asset_check_selection is not None:
        # Every blocking check guards the publish: a run without some would publish anyway.
        missing |= set(graph.asset_check_keys) - set(run.asset_check_selection)
    if not missing:
        return None
    example = ", ".join(sorted(key.to_user_string() for key in missing)[:3])
    return (
        f"this run selects only part of the warehouse ({len(missing)} assets or checks "
        f"left out, e.g. {example}); recurwise builds, checks and publishes the whole "
        f"warehouse in one run: {how}"
    )


class WorkWarehouse(dg.ConfigurableResource):
    """The run's work file: a fresh copy of the published warehouse, made once at run start.

    Every run takes the warehouse's build lock here, whoever started it (`recurwise build`,
    the schedule, the sensor, the UI, a backfill), and holds it to the end of the run: a
    second run of the same warehouse refuses before it touches the work file. Setting the
    work copy up here rather than in an asset means no step (dbt seeds have no upstream)
    can write to it before it is fresh. At the end of a run that did not publish, its work
    file is removed (it only takes space; the next run starts from a fresh copy anyway).
    The sensor and the schedule use BuildSettings only, so a tick never touches a running
    build's work file.
    """

    settings: dg.ResourceDependency[BuildSettings]
    _held: ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        problem = partial_run_problem(context.dagster_run)
        if problem:
            raise PartialRunError(problem)
        held = ExitStack()
        held.enter_context(build_lock(self.settings.warehouse))
        try:
            start_work_copy(self.settings.warehouse)
            if self.settings.on_spark:
                start_build_folder(self.settings.lakehouse)
        except BaseException:
            # A copy cut short (a full disk) only takes space; teardown is not called when
            # setup fails, so it goes here, under the lock (never a file another process
            # holds: discard_work_file checks).
            discard_work_file(self.settings.warehouse)
            if self.settings.on_spark:
                discard_build_folder(self.settings.lakehouse)
            held.close()
            raise
        self._held = held

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._held is None:
            return
        try:
            # A published run's work file is gone (renamed into place); any other is ours.
            discard_work_file(self.settings.warehouse)
            if self.settings.on_spark:
                discard_build_folder(self.settings.lakehouse)
        finally:
            self._held.close()
            self._held = None

    @property
    def path(self) -> Path:
        return work_path(self.settings.warehouse)

    @property
    def dbt_target_dir(self) -> Path:
        return dbt_target_dir(self.settings.warehouse)

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """A connection to the work file, with the build's memory limit and spill folder."""
        con = duckdb.connect(
            str(self.path), read_only=read_only, config=duckdb_settings(self.settings.warehouse)
        )
        # No progress bar: the build's stdout goes to its log file.
        con.execute("set enable_progress_bar = false")
        return con


class SparkEngine(dg.ConfigurableResource):
    """The build process's Spark session on the Spark engine, started when a step first
    asks for it (the subscription builder) and stopped at the end of the run; a DuckDB
    build never starts one. Its catalog is Spark's in-memory one: tables are read and
    written by their lakehouse folders (lib/lakehouse.py)."""

    settings: dg.ResourceDependency[BuildSettings]
    _session: Any = PrivateAttr(default=None)

    def session(self) -> "SparkSession":
        if self._session is None:
            from dagster_project.lib.spark_session import spark_session

            self._session = spark_session(self.work_lakehouse, self.settings.spark_master)
        return self._session

    @property
    def work_lakehouse(self) -> Path:
        """The running build's work lakehouse (lib/lakehouse.py)."""
        return build_folder(self.settings.lakehouse)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._session is not None:
            self._session.stop()
            self._session = None


# The code location's settings: where `recurwise ui` (and a deployment) puts them. A run
# may override any of them in its run config (resources.settings.config), as `recurwise
# build` does and a data engineer can in the UI's launchpad.
SETTINGS_ENVIRONMENT = {
    "landing_dir": "RECURWISE_LANDING",
    "warehouse_path": "RECURWISE_WAREHOUSE",
    "as_of_date": "RECURWISE_AS_OF",
    "dbt_vars_json": "RECURWISE_DBT_VARS",
    "subscription_build_filter": "RECURWISE_BUILD_FILTER",
    "accepted_snapshots": "RECURWISE_ACCEPT_SNAPSHOTS",
    "engine": "RECURWISE_ENGINE",
    "lakehouse_dir": "RECURWISE_LAKEHOUSE",
    "spark_master": "RECURWISE_SPARK_MASTER",
}


@dg.definitions
def resources() -> dg.Definitions:
    # Configured at launch, from the environment unless the run config says otherwise;
    # bound by its key, so the work file's resource sees the run's settings too.
    settings = BuildSettings.configure_at_launch(
        **{field_name: dg.EnvVar(name) for field_name, name in SETTINGS_ENVIRONMENT.items()}
    )
    return dg.Definitions(
        resources={
            "settings": settings,
            "warehouse": WorkWarehouse(settings=settings),
            "spark": SparkEngine(settings=settings),
        }
    )
