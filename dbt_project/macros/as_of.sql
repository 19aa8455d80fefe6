{#-
  The snapshots the warehouse holds. source() is read in staging only: staging models take
  the source itself, every later layer (and every test) its staging model stg_crm__snapshots.
-#}
{% macro snapshot_calendar() -%}
    {%- if model.fqn[1] == 'staging' -%}
        {{ source('crm', 'snapshots') }}
    {%- else -%}
        {{ ref('stg_crm__snapshots') }}
    {%- endif -%}
{%- endmacro %}

{#-
  The as-of date of every "today" computation (SPEC 4): the `as_of_date` var when given,
  else the latest snapshot date. Same input, same output: never the wall clock.
-#}
{% macro as_of_date() -%}
    {%- if var('as_of_date') -%}
        {{ date_var('as_of_date') }}
    {%- else -%}
        (select max(snapshot_date) from {{ snapshot_calendar() }})
    {%- endif -%}
{%- endmacro %}

{#- The snapshot that is "current state" (SPEC 4.1): the latest one on or before as-of. -#}
{% macro current_snapshot_date() -%}
    (
        select max(snapshot_date) from {{ snapshot_calendar() }}
        where snapshot_date <= {{ as_of_date() }}
    )
{%- endmacro %}

{#-
  Raw storage keeps one row per version with the first and last snapshot that show it
  (dagster_project/lib/raw_store.py). These decode it: the rows of one snapshot, or of
  every snapshot up to the as-of date, each with its `_snapshot_date`.
-#}
{% macro rows_in_snapshot(versions, snapshot_date) -%}
    select
        *,
        {{ snapshot_date }} as _snapshot_date
    from {{ versions }}
    where {{ snapshot_date }} between _first_snapshot_date and _last_snapshot_date
{%- endmacro %}

{% macro rows_in_every_snapshot(versions) -%}
    select
        v.*,
        s.snapshot_date as _snapshot_date
    from {{ versions }} as v
    inner join {{ snapshot_calendar() }} as s
        on s.snapshot_date between v._first_snapshot_date and v._last_snapshot_date
    where s.snapshot_date <= {{ as_of_date() }}
{%- endmacro %}

{#- The first snapshot the warehouse holds (the start of its history). -#}
{% macro first_snapshot_date() -%}
    (select min(snapshot_date) from {{ snapshot_calendar() }})
{%- endmacro %}
