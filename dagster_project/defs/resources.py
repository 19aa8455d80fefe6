"""Resources of the build: its settings, and the work file every asset of a run writes to."""

import json
from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.lib.build_filter import DEFAULT_BUILD_FILTER
from dagster_project.lib.settings import SettingError, check_dbt_vars, dbt_defaults, quoted
from dagster_project.lib.warehouse import (
    dbt_target_dir,
    duckdb_settings,
    start_work_copy,
    work_path,
)


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

    def dbt_vars(self) -> dict[str, object]:
        """The dbt vars of this build: the settings given on the command line, and as-of,
        each checked against its declared type (a run started from the UI or the sensor
        reads them from the environment, not from the `recurwise` command's flags)."""
        try:
            values = json.loads(self.dbt_vars_json or "{}")
        except json.JSONDecodeError:
            raise SettingError(
                f"RECURWISE_DBT_VARS is not a JSON object: {quoted(self.dbt_vars_json)}"
            ) from None
        if self.as_of_date and isinstance(values, dict):
            values = {**values, "as_of_date": self.as_of_date}
        return check_dbt_vars(values)

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


class WorkWarehouse(dg.ConfigurableResource):
    """The run's work file: a fresh copy of the published warehouse, made once at run start.

    Setting it up here rather than in an asset means no step (dbt seeds have no upstream)
    can write to it before it is fresh. The sensor uses BuildSettings only, so a sensor
    tick never touches a running build's work file.
    """

    settings: dg.ResourceDependency[BuildSettings]

    @property
    def path(self) -> Path:
        return work_path(self.settings.warehouse)

    @property
    def dbt_target_dir(self) -> Path:
        return dbt_target_dir(self.settings.warehouse)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        start_work_copy(self.settings.warehouse)

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """A connection to the work file, with the build's memory limit and spill folder."""
        con = duckdb.connect(
            str(self.path), read_only=read_only, config=duckdb_settings(self.settings.warehouse)
        )
        # No progress bar: the build's stdout goes to its log file.
        con.execute("set enable_progress_bar = false")
        return con


@dg.definitions
def resources() -> dg.Definitions:
    settings = BuildSettings(
        landing_dir=dg.EnvVar("RECURWISE_LANDING"),
        warehouse_path=dg.EnvVar("RECURWISE_WAREHOUSE"),
        as_of_date=dg.EnvVar("RECURWISE_AS_OF"),
        dbt_vars_json=dg.EnvVar("RECURWISE_DBT_VARS"),
        subscription_build_filter=dg.EnvVar("RECURWISE_BUILD_FILTER"),
        accepted_snapshots=dg.EnvVar("RECURWISE_ACCEPT_SNAPSHOTS"),
    )
    return dg.Definitions(
        resources={"settings": settings, "warehouse": WorkWarehouse(settings=settings)}
    )
