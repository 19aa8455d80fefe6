{#-
  The month close as reported (SPEC 4.12): the records and totals of int_month_close_restated
  for every month that is closed in this build and was not frozen before, with the as-of
  date of the build that froze it. An incremental table: a build works on a copy of the
  published warehouse (lib/warehouse.py), so frozen months are carried from the published
  warehouse into later builds like raw data, and only a published build adds to them.
  full_refresh false: `dbt build --full-refresh` never rebuilds it.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
) }}

with restated as (
    select * from {{ ref('int_month_close_restated') }}
),

final as (
    select
        r.month,
        r.metric,
        r.metric_order,
        r.record_type,
        r.record_id,
        r.value,
        r.record_note,
        {{ as_of_date() }} as frozen_at_as_of
    from restated as r
    {% if is_incremental() %}
        where r.month not in (select f.month from {{ this }} as f)
    {% endif %}
)

select * from final
