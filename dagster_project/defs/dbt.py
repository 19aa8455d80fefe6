"""dbt assets: staging, intermediate and marts models of dbt_project/, built with `dbt build`.

Each model is keyed and grouped by its layer (schema, top folder), a mart also tagged with its
domain; dbt sources point at the assets that fill them (meta.dagster.asset_key: the ingest
assets, the subscription builder), and dbt tests become Dagster asset checks.
"""

import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliInvocation, DbtCliResource, dbt_assets
from packaging.version import Version

from dagster_project.dbt_project import dbt_project
from dagster_project.defs.resources import WAREHOUSE_POOL, BuildSettings, WorkWarehouse
from dagster_project.lib.child_process import (
    DBT_EXECUTABLE,
    PARENT_PID_ENV,
    child_environment,
)
from dagster_project.lib.lakehouse import (
    RAW,
    build_folder,
    export_raw_tables,
    is_remote,
    local_driver_memory,
    written_tables,
)
from dagster_project.lib.warehouse import PARTIAL_PARSE, dbt_environment

dbt_project.prepare_if_dev()


class LayerTranslator(DagsterDbtTranslator):
    """Asset key = [schema, model]; group = the model's layer, its top folder (staging,
    intermediate, marts).

    A group per layer, not per domain: the layers are what a run builds in order and what
    the builder asset sits between; a mart's domain (its folder under marts/) reaches
    Dagster as the dbt tag dagster-dbt turns into an asset tag (`tag:revenue`).
    """

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else None

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:analytics-engineering"]


class BuildDbtCli(DbtCliResource):
    """dagster-dbt's dbt CLI resource, given this build's profile and settings.

    `build()` runs `dbt build` on the run's work file: profiles.yml reads the work file and
    the DuckDB settings from the dbt process's environment, and the build's settings reach
    dbt as `--vars`, both from the run's resources (BuildSettings, WorkWarehouse), so a
    run started by the schedule, the sensor or the UI gets exactly what `recurwise build`
    gets. The environment is the dbt child's only (lib/child_process.child_environment).

    Two start-up costs a build never uses are skipped. Before each `dbt` subprocess,
    DbtCliResource.cli() runs `dbt --version` once (to tell dbt Core from the Fusion
    engine) and opens a dbt adapter in this process (for `fetch_row_counts()` /
    `fetch_column_metadata()`, which these assets do not call). Together ~5 s of a warm
    demo build; dagster-dbt 0.29 has no public switch for either, so the two private
    members are overridden here, and tests/test_definitions.py fails when an upgrade
    renames them. The executable is this environment's dbt, so its version is the
    installed dbt-core's.
    """

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None

    def build(
        self,
        context: dg.AssetExecutionContext,
        settings: BuildSettings,
        warehouse: WorkWarehouse,
    ) -> DbtCliInvocation:
        # Unit tests check the SQL logic, not the data: CI runs them
        # (tests/test_dbt_unit_tests.py); a production build runs models, seeds and tests.
        args = ["build", "--exclude-resource-type", "unit_test"]
        if settings.on_spark:
            # A Spark Connect server has its own resources and catalog (profiles.yml).
            args += ["--target", "spark_connect" if is_remote(settings.spark_master) else "spark"]
        if settings.dbt_vars():
            args += ["--vars", json.dumps(settings.dbt_vars())]
        target = warehouse.dbt_target_dir / context.op_execution_context.op.name
        _start_from_latest_parse(target)
        environment = {
            **dbt_environment(settings.warehouse),
            # marts.build_info records them (quoted as values there).
            "RECURWISE_BUILD_SETTINGS": json.dumps(settings.effective_settings(), sort_keys=True),
            "RECURWISE_BUILD_FILTER": settings.subscription_build_filter,
            "RECURWISE_VERSION": installed_version("recurwise"),
            # Plain text: dbt's errors are quoted in the build's failure message and log.
            "DBT_USE_COLORS": "false",
            # recurwise-dbt dies with this process (lib/child_process.py): who that is.
            PARENT_PID_ENV: str(os.getpid()),
        }
        if settings.on_spark:
            environment.update(spark_dbt_environment(settings, warehouse))
        with child_environment(environment):
            return self.cli(args, context=context, target_path=target)


def spark_dbt_environment(settings: BuildSettings, warehouse: WorkWarehouse) -> dict[str, str]:
    """What dbt-spark needs of this build: the work lakehouse and the tables dbt reads but
    does not write (macros/lakehouse.sql names them), the master, the Python of the UDFs.

    The first dbt step exports the ingest's raw tables from the work file to the lakehouse
    (the DuckDB ingest stays, docs/spark.md); the second also reads the builder's output.
    """
    root = build_folder(settings.lakehouse)
    raw_tables = written_tables(root, RAW) or export_raw_tables(warehouse.path, root)
    # intermediate.subscription_build_* (defs/subscriptions.py), once the builder has run;
    # never a table dbt wrote (re-registering a dbt table would drop its files).
    builder_tables = [
        name
        for name in written_tables(root, "intermediate")
        if name.startswith("intermediate.subscription_build_")
    ]
    environment = {
        "RECURWISE_WORK_LAKEHOUSE": str(root),
        "RECURWISE_LAKEHOUSE_TABLES": ",".join(raw_tables + builder_tables),
        "RECURWISE_SPARK_MASTER": settings.spark_master,
        "RECURWISE_SPARK_DRIVER_MEMORY": local_driver_memory(),
        # dbt-spark's local session starts Python workers only for UDFs; they run this Python.
        "PYSPARK_PYTHON": sys.executable,
    }
    if is_remote(settings.spark_master):
        # pyspark's session builder connects to SPARK_REMOTE (target spark_connect).
        environment["SPARK_REMOTE"] = settings.spark_master
    return environment


def _start_from_latest_parse(target: Path) -> None:
    """Give this dbt invocation the newest parse of this warehouse's builds.

    dbt keeps its parsed project in <target>/partial_parse.msgpack and re-parses the whole
    project (~4 s on the demo) when that parse was made with another profile, and the
    DuckDB path (the work file) is part of the profile. dagster-dbt copies the project's
    target/ parse into a target that has none, which fits only the warehouse that parsed
    it; each build runs two invocations (before and after the subscription builder), so a
    first build of a new warehouse parsed twice. The other invocation's parse of the same
    warehouse, and the start-of-build parse `recurwise build` leaves in
    <warehouse>.dbt/start_of_build/ when the project changed, have the same profile:
    start from whichever is newest. dbt checks a saved parse before it uses one, so a
    wrong pick costs a parse, never a wrong result.
    """
    mine = target / PARTIAL_PARSE
    others = [path for path in target.parent.glob(f"*/{PARTIAL_PARSE}") if path != mine]
    newest = max(others, key=lambda path: path.stat().st_mtime, default=None)
    if newest is not None and (not mine.exists() or newest.stat().st_mtime > mine.stat().st_mtime):
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(newest, mine)


# The subscription builder (a Python asset) sits between two dbt layers: everything it does
# not feed builds first, then the models on top of its tables (from their staging models in
# models/staging/subscription_build on). Two explicit selections keep the order plain
# instead of leaving Dagster to split one dbt asset around a cycle.
AFTER_SUBSCRIPTIONS = "source:subscription_build+"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    dagster_dbt_translator=LayerTranslator(),
    exclude=AFTER_SUBSCRIPTIONS,
    pool=WAREHOUSE_POOL,
)
def crm_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: BuildDbtCli,
    settings: BuildSettings,
    warehouse: WorkWarehouse,
):
    yield from dbt.build(context, settings, warehouse).stream()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    dagster_dbt_translator=LayerTranslator(),
    select=AFTER_SUBSCRIPTIONS,
    pool=WAREHOUSE_POOL,
)
def subscription_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: BuildDbtCli,
    settings: BuildSettings,
    warehouse: WorkWarehouse,
):
    yield from dbt.build(context, settings, warehouse).stream()


@dg.definitions
def dbt_models() -> dg.Definitions:
    return dg.Definitions(
        assets=[crm_dbt_models, subscription_dbt_models],
        resources={
            # The dbt of this environment, whether or not its bin/ is on PATH, started as
            # recurwise-dbt: it is killed when the build process dies (issue 22).
            "dbt": BuildDbtCli(project_dir=dbt_project, dbt_executable=str(DBT_EXECUTABLE))
        },
    )
