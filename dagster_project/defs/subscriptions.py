"""The subscription builder asset: JustOn's rules (SPEC 4.8) over polars, between dbt layers.

It reads the won opportunities that pass the build filter and their priced lines from the
work file, runs the pure fold of lib/subscriptions.py, and writes its result to
intermediate.subscription_build_* tables; the dbt marts fct_subscriptions,
fct_subscription_items and subscription_build_errors publish them with contracts.
"""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from dagster_project.defs.dbt import crm_dbt_models
from dagster_project.defs.resources import WAREHOUSE_POOL, BuildSettings, WorkWarehouse
from dagster_project.lib.build_filter import BuildFilterError, validate_build_filter
from dagster_project.lib.subscriptions import build_subscriptions

BUILD_TABLES = {
    "subscription_build_subscriptions": "Subscriptions as the builder produced them.",
    "subscription_build_items": "Subscription item versions as the builder produced them.",
    "subscription_build_errors": "Sources the builder skipped, with the reason.",
    "subscription_build_sources": "Each built source with the use case applied to it.",
}
# The models the builder reads (SOURCES_SQL, LINES_SQL, the as-of date), keyed as the dbt
# manifest keys them.
BUILD_INPUTS = [
    get_asset_key_for_model([crm_dbt_models], model)
    for model in (
        "fct_line_items",
        "stg_crm__opportunities",
        "stg_crm__opportunity_line_items",
        "stg_crm__products",
        "int_accounts_mastered",
        "build_info",
    )
]

SOURCES_SQL = """
select
    o.opportunity_id,
    m.master_account_id,
    o.use_case,
    o.start_date,
    o.close_date,
    o.term_months
from staging.stg_crm__opportunities as o
left join intermediate.int_accounts_mastered as m on o.account_id = m.account_id
where o.is_won and ({build_filter})
"""

LINES_SQL = """
select
    l.line_item_id,
    l.opportunity_id,
    l.product_id,
    s.order_no,
    l.quantity,
    l.net_unit_price,
    l.mrr,
    l.is_recurring,
    cast(l.term_months as double) as term_months,
    s.service_date,
    coalesce(s.is_excluded_from_upgrade, p.is_excluded_from_upgrade, false)
        as is_excluded_from_upgrade
from marts.fct_line_items as l
inner join staging.stg_crm__opportunity_line_items as s on l.line_item_id = s.line_item_id
left join staging.stg_crm__products as p on l.product_id = p.product_id
"""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=dg.AssetKey(["intermediate", table]),
            deps=BUILD_INPUTS,
            group_name="intermediate",
            owners=["team:revenue-operations"],
            kinds={"polars", "duckdb"},
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
    context: dg.AssetExecutionContext, settings: BuildSettings, warehouse: WorkWarehouse
):
    try:
        build_filter = validate_build_filter(settings.subscription_build_filter)
    except BuildFilterError as exc:
        raise dg.Failure(description=str(exc)) from None
    with warehouse.connect() as con:
        sources = con.sql(SOURCES_SQL.format(build_filter=build_filter)).pl()
        lines = con.sql(LINES_SQL).pl().join(sources.select("opportunity_id"), on="opportunity_id")
        # The build's "today", as the dbt models have it (marts.build_info).
        as_of = con.execute("select as_of_date from marts.build_info").fetchone()[0]
        result = build_subscriptions(sources, lines, as_of)
        frames = {
            "subscription_build_subscriptions": result.subscriptions,
            "subscription_build_items": result.items,
            "subscription_build_errors": result.errors,
            "subscription_build_sources": result.sources_built,
        }
        con.execute("create schema if not exists intermediate")
        for table, frame in frames.items():
            con.register("frame", frame)
            con.execute(f"create or replace table intermediate.{table} as select * from frame")
            con.unregister("frame")
    if result.errors.height:
        context.log.warning(
            f"{result.errors.height} sources not built; see marts.subscription_build_errors"
        )
    context.log.info(
        f"{sources.height} sources with filter {build_filter!r} as of {as_of}: "
        f"{result.subscriptions.height} subscriptions, {result.errors.height} build errors"
    )
    for table, frame in frames.items():
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(["intermediate", table]),
            metadata={"rows": frame.height, "build_filter": build_filter},
        )


@dg.definitions
def subscriptions() -> dg.Definitions:
    return dg.Definitions(assets=[subscription_build])
