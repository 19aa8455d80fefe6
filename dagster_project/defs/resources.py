"""Build settings shared by every asset: where the snapshots land and where the warehouse lives."""

from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.lib.warehouse import work_path


class BuildSettings(dg.ConfigurableResource):
    """Paths and the as-of date of a build; `recurwise` sets them from its flags."""

    landing_dir: str
    warehouse_path: str
    as_of_date: str = ""  # empty = the latest snapshot date

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def warehouse(self) -> Path:
        return Path(self.warehouse_path)

    @property
    def work_file(self) -> Path:
        return work_path(self.warehouse)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A read-write connection to this build's work file."""
        return duckdb.connect(str(self.work_file))


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "settings": BuildSettings(
                landing_dir=dg.EnvVar("RECURWISE_LANDING"),
                warehouse_path=dg.EnvVar("RECURWISE_WAREHOUSE"),
                as_of_date=dg.EnvVar("RECURWISE_AS_OF"),
            )
        }
    )
