"""Publish: the finished work file, copied into DuckDB 1.x's storage format, replaces the
analysts' warehouse in one atomic rename."""

import time

import dagster as dg

from dagster_project.defs.dbt import crm_dbt_models, subscription_dbt_models
from dagster_project.defs.resources import BuildSettings, WorkWarehouse
from dagster_project.lib.warehouse import PUBLISHED_STORAGE_VERSION, publish


@dg.asset(
    key=dg.AssetKey(["published_warehouse"]),
    deps=[crm_dbt_models, subscription_dbt_models],
    group_name="publish",
    owners=["team:data-engineering"],
    kinds={"duckdb"},
    description=(
        "The analysts' DuckDB file, in a storage format DuckDB 1.x tools read "
        f"({PUBLISHED_STORAGE_VERSION}). Replaced atomically by a copy of the build's work "
        "file once every model and blocking check has passed; a failed build leaves it "
        "untouched."
    ),
)
def published_warehouse(
    context: dg.AssetExecutionContext, settings: BuildSettings, warehouse: WorkWarehouse
) -> dg.MaterializeResult:
    # Fold the write-ahead log into the file so the rename carries everything.
    with warehouse.connect() as con:
        con.execute("checkpoint")
        marts = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts'"
        ).fetchone()[0]
    started = time.monotonic()
    path = publish(settings.warehouse)
    seconds = time.monotonic() - started
    context.log.info(f"published {path} ({PUBLISHED_STORAGE_VERSION} storage, {seconds:.1f}s)")
    return dg.MaterializeResult(
        metadata={
            "path": str(path),
            "marts": marts,
            "size_bytes": path.stat().st_size,
            "storage_version": PUBLISHED_STORAGE_VERSION,
            "publish_seconds": round(seconds, 2),
        }
    )
