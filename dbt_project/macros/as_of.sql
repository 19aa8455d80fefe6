{#-
  The as-of date of every "today" computation (SPEC 4): the `as_of_date` var when given,
  else the latest snapshot date. Same input, same output: never the wall clock.
-#}
{% macro as_of_date() -%}
    {%- if var('as_of_date') -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        (select max(snapshot_date) from {{ source('crm', 'snapshots') }})
    {%- endif -%}
{%- endmacro %}

{#- The snapshot that is "current state" (SPEC 4.1): the latest one on or before as-of. -#}
{% macro current_snapshot_date() -%}
    (
        select max(snapshot_date) from {{ source('crm', 'snapshots') }}
        where snapshot_date <= {{ as_of_date() }}
    )
{%- endmacro %}
