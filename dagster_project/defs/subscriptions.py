"""The subscription builder asset: JustOn's rules (SPEC 4.8) over polars, between dbt layers.

It reads the won opportunities that pass the build filter (dbt's int_opportunities_won)
and their lines (int_line_items_won) from the work file, runs the pure fold of
lib/subscriptions.py, and writes its result to intermediate.subscription_build_* tables;
dbt stages them (models/staging/subscription_build) and the marts fct_subscriptions,
fct_subscription_items and subscription_build_errors publish them with contracts. The
rules that shape its input live in those dbt models, not here.
"""

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
from dagster_dbt import get_asset_key_for_model

from dagster_project.defs.dbt import crm_dbt_models
from dagster_project.defs.resources import (
    WAREHOUSE_POOL,
    BuildSettings,
    SparkEngine,
    WorkWarehouse,
)
from dagster_project.lib.build_filter import BuildFilterError, validate_build_filter
from dagster_project.lib.lakehouse import table_folder
from dagster_project.lib.subscriptions import BuildResult, build_subscriptions

BUILD_TABLES = {
    "subscription_build_subscriptions": "Subscriptions as the builder produced them.",
    "subscription_build_items": "Subscription item versions as the builder produced them.",
    "subscription_build_errors": "Sources the builder skipped, with the reason.",
    "subscription_build_sources": "Each built source with the use case applied to it.",
}
# What the builder reads, keyed as the dbt manifest keys them: the won opportunities and
# their lines (every rule that shapes them lives in those dbt models) and the as-of date.
WON_OPPORTUNITIES_KEY = get_asset_key_for_model([crm_dbt_models], "int_opportunities_won")
WON_LINE_ITEMS_KEY = get_asset_key_for_model([crm_dbt_models], "int_line_items_won")
BUILD_INFO_KEY = get_asset_key_for_model([crm_dbt_models], "build_info")
SOURCE_COLUMNS = (
    "opportunity_id",
    "master_account_id",
    "use_case",
    "start_date",
    "close_date",
    "term_months",
)
LINE_COLUMNS = (
    "line_item_id",
    "opportunity_id",
    "product_id",
    "order_no",
    "quantity",
    "net_unit_price",
    "mrr",
    "is_recurring",
    "term_months",
    "service_date",
    "is_excluded_from_upgrade",
)


def _relation(key: dg.AssetKey) -> str:
    """The table of a dbt model: its asset key is [schema, model] (defs/dbt.py)."""
    return ".".join(key.path)


# Each table's BuildResult field.
BUILD_RESULT_FIELDS = {
    "subscription_build_subscriptions": "subscriptions",
    "subscription_build_items": "items",
    "subscription_build_errors": "errors",
    "subscription_build_sources": "sources_built",
}


def build_tables(result: BuildResult) -> dict[str, pl.DataFrame]:
    """The builder's result by the table it is written to (BUILD_TABLES)."""
    return {table: getattr(result, field) for table, field in BUILD_RESULT_FIELDS.items()}


def read_builder_input(
    con: duckdb.DuckDBPyConnection, build_filter: str
) -> tuple[pl.DataFrame, pl.DataFrame, date]:
    """The builder's input in the work file: the won opportunities that pass `build_filter`
    (already validated), their lines, and the build's as-of date."""
    sources = con.sql(
        f"select {', '.join(SOURCE_COLUMNS)} from {_relation(WON_OPPORTUNITIES_KEY)} "
        f"where {build_filter}"
    ).pl()
    lines = (
        con.sql(f"select {', '.join(LINE_COLUMNS)} from {_relation(WON_LINE_ITEMS_KEY)}")
        .pl()
        .join(sources.select("opportunity_id"), on="opportunity_id")
    )
    # The build's "today", as the dbt models have it.
    [(as_of,)] = con.execute(f"select as_of_date from {_relation(BUILD_INFO_KEY)}").fetchall()
    return sources, lines, as_of


def build_in_warehouse(
    con: duckdb.DuckDBPyConnection, build_filter: str
) -> tuple[int, date, BuildResult]:
    """Run the builder on its input (read_builder_input) and write its tables: the number
    of sources read, the as-of date and the result."""
    sources, lines, as_of = read_builder_input(con, build_filter)
    result = build_subscriptions(sources, lines, as_of)
    con.execute("create schema if not exists intermediate")
    for table, frame in build_tables(result).items():
        con.register("frame", frame)
        con.execute(f"create or replace table intermediate.{table} as select * from frame")
        con.unregister("frame")
    return sources.height, as_of, result


def build_in_lakehouse(spark, root: Path, build_filter: str) -> tuple[int, date, dict[str, int]]:
    """The Spark engine's build: the same input read from the work lakehouse `root`, the
    same fold as a grouped map over master accounts (lib/spark_subscriptions.py), its tables
    written to <root>/intermediate/<table>/. The number of sources read, the as-of date and
    each table's rows."""
    from dagster_project.lib.spark_subscriptions import (
        build_subscriptions_on_spark,
        unpersist_build,
    )

    def read(key: dg.AssetKey):
        return spark.read.parquet(str(table_folder(root, *key.path)))

    sources = read(WON_OPPORTUNITIES_KEY).where(build_filter).select(*SOURCE_COLUMNS).cache()
    lines = (
        read(WON_LINE_ITEMS_KEY)
        .select(*LINE_COLUMNS)
        .join(sources.select("opportunity_id"), on="opportunity_id", how="left_semi")
    )
    as_of = read(BUILD_INFO_KEY).select("as_of_date").first()["as_of_date"]
    result = build_subscriptions_on_spark(sources, lines, as_of)
    rows = {}
    try:
        for table, field in BUILD_RESULT_FIELDS.items():
            frame = getattr(result, field)
            frame.write.mode("overwrite").parquet(str(table_folder(root, "intermediate", table)))
            rows[table] = frame.count()
        return sources.count(), as_of, rows
    finally:
        unpersist_build(result)
        sources.unpersist()


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=dg.AssetKey(["intermediate", table]),
            deps=[WON_OPPORTUNITIES_KEY, WON_LINE_ITEMS_KEY, BUILD_INFO_KEY],
            group_name="intermediate",
            owners=["team:revenue-operations"],
            kinds={"polars", "duckdb", "spark"},
            description=description,
        )
        for table, description in BUILD_TABLES.items()
    ],
    pool=WAREHOUSE_POOL,
    description=(
        "The subscription builder: won opportunities that pass the build filter, folded per "
        "master account in effective-date order (SPEC 4.8)."
    ),
)
def subscription_build(
    context: dg.AssetExecutionContext,
    settings: BuildSettings,
    warehouse: WorkWarehouse,
    spark: SparkEngine,
):
    try:
        build_filter = validate_build_filter(settings.subscription_build_filter)
    except BuildFilterError as exc:
        raise dg.Failure(description=str(exc)) from None
    if settings.on_spark:
        sources_read, as_of, rows = build_in_lakehouse(
            spark.session(), spark.work_lakehouse, build_filter
        )
    else:
        with warehouse.connect() as con:
            sources_read, as_of, result = build_in_warehouse(con, build_filter)
        rows = {table: frame.height for table, frame in build_tables(result).items()}
    errors = rows["subscription_build_errors"]
    if errors:
        context.log.warning(f"{errors} sources not built; see marts.subscription_build_errors")
    context.log.info(
        f"{sources_read} sources with filter {build_filter!r} as of {as_of}: "
        f"{rows['subscription_build_subscriptions']} subscriptions, {errors} build errors"
    )
    for table, count in rows.items():
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(["intermediate", table]),
            metadata={"rows": count, "build_filter": build_filter},
        )


@dg.definitions
def subscriptions() -> dg.Definitions:
    return dg.Definitions(assets=[subscription_build])
