"""Publish: the finished work file, copied into DuckDB 1.x's storage format, replaces the
analysts' warehouse in one atomic rename. On the Spark engine the work lakehouse's marts
replace <lakehouse>/marts/ first, and the published file gets views over them."""

import time

import dagster as dg

from dagster_project.defs.dbt import crm_dbt_models, subscription_dbt_models
from dagster_project.defs.resources import WAREHOUSE_POOL, BuildSettings, WorkWarehouse
from dagster_project.lib.lakehouse import MARTS, create_mart_views, publish_marts
from dagster_project.lib.raw_store import rows_per_object
from dagster_project.lib.warehouse import PUBLISHED_STORAGE_VERSION, publish


@dg.asset(
    key=dg.AssetKey(["published_warehouse"]),
    deps=[crm_dbt_models, subscription_dbt_models],
    group_name="publish",
    owners=["team:data-engineering"],
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
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
    if settings.on_spark:
        # The marts' folders first, then the file whose views read them (lib/lakehouse.py).
        marts = publish_marts(settings.lakehouse)
        context.log.info(f"published {len(marts)} marts to {settings.lakehouse / MARTS}")
    # Fold the write-ahead log into the file so the rename carries everything.
    with warehouse.connect() as con:
        if settings.on_spark:
            create_mart_views(con, settings.lakehouse, marts)
        con.execute("checkpoint")
        summary = build_summary(con)
    started = time.monotonic()
    path = publish(settings.warehouse)
    seconds = time.monotonic() - started
    context.log.info(f"published {path} ({PUBLISHED_STORAGE_VERSION} storage, {seconds:.1f}s)")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            **summary,
            "size_bytes": path.stat().st_size,
            "storage_version": PUBLISHED_STORAGE_VERSION,
            "publish_seconds": round(seconds, 2),
        }
    )


def build_summary(con) -> dict[str, object]:
    """The published warehouse as this run leaves it, for the UI (what `recurwise build`
    prints): its as-of date, snapshots and marts, and rows loaded and rejected per CRM
    object over all its snapshots."""
    as_of, last_snapshot = con.execute(
        "select as_of_date, last_snapshot_date from marts.build_info"
    ).fetchone()
    loads = rows_per_object(con)
    marts = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts'"
    ).fetchone()[0]
    loaded = "\n".join(f"| {name} | {rows:,} | {rejected:,} |" for name, rows, rejected in loads)
    return {
        "as_of_date": str(as_of),
        "current_snapshot": str(last_snapshot),
        "snapshots": con.execute("select count(*) from raw.snapshots").fetchone()[0],
        "marts": marts,
        "rows_loaded": sum(rows for _, rows, _ in loads),
        "rows_rejected": sum(rejected for _, _, rejected in loads),
        "loads": dg.MetadataValue.md(
            "| object | rows loaded | rows rejected |\n|---|---:|---:|\n" + loaded
        ),
    }


@dg.definitions
def publishing() -> dg.Definitions:
    return dg.Definitions(assets=[published_warehouse])
