"""What the build's child processes see: its settings as the run's resource config or the
environment, and this installation's dbt on PATH."""

import json
import os
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dagster_project.lib.build_filter import DEFAULT_BUILD_FILTER
from dagster_project.lib.lakehouse import LOCAL_MASTER


@dataclass(frozen=True)
class SparkOptions:
    """A build on the Spark engine (SPEC 8): its lakehouse folder and Spark master."""

    lakehouse: Path
    master: str = LOCAL_MASTER


def build_settings(
    landing: Path,
    warehouse: Path,
    as_of: date | None,
    build_filter: str | None = None,
    dbt_vars: dict[str, object] | None = None,
    accepted_snapshots: list[date] | None = None,
    spark: SparkOptions | None = None,
) -> dict[str, str]:
    """The BuildSettings resource's fields (defs/resources.py) for these flags."""
    engine = (
        {"engine": "spark", "lakehouse_dir": str(spark.lakehouse), "spark_master": spark.master}
        if spark is not None
        else {"engine": "duckdb", "lakehouse_dir": "", "spark_master": LOCAL_MASTER}
    )
    return {
        **engine,
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


def put_this_environment_on_path() -> None:
    """This environment's bin folder first on PATH, even when it is not activated: the
    manifest preparer runs `dbt` from PATH, here and in the UI's code server (started from
    this process)."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
