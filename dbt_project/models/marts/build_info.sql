-- The build's own context in one row (SPEC 5): what "today" was, which snapshots it read,
-- in which currency and by which conventions, with every setting it ran with. The finance
-- report and the subscription builder read it instead of working it out again.
-- Settings, build filter and version come from the build (defs/dbt.py gives them to the
-- dbt process); quoted as values, never pasted into the SQL.
with final as (
    select
        {{ as_of_date() }} as as_of_date,
        {{ first_snapshot_date() }} as first_snapshot_date,
        {{ current_snapshot_date() }} as last_snapshot_date,
        (select max(snapshot_date) from {{ ref('stg_crm__snapshots') }}) as latest_snapshot_loaded,
        {{ sql_string(var('corporate_currency')) }} as corporate_currency,
        {{ sql_string(var('mrr_convention', 'opening')) }} as mrr_convention,
        cast({{ sql_string(env_var('RECURWISE_BUILD_SETTINGS', '{}')) }} as {{ type_json() }}) as settings,
        {{ sql_string(env_var('RECURWISE_BUILD_FILTER', '')) }} as build_filter,
        cast({{ sql_string(run_started_at.strftime('%Y-%m-%d %H:%M:%S')) }} as timestamp)
            as built_at,
        {{ sql_string(env_var('RECURWISE_VERSION', 'unknown')) }} as recurwise_version
)

select
    as_of_date,
    first_snapshot_date,
    last_snapshot_date,
    latest_snapshot_loaded,
    corporate_currency,
    mrr_convention,
    settings,
    build_filter,
    built_at,
    recurwise_version
from final
