{#-
  dbt.dateadd on Spark (dispatch finds a root project's spark__ first). dbt-spark's own
  version goes through to_timestamp(to_unix_timestamp(...)), which is NULL for every row
  under spark.sql.timestampType TIMESTAMP_NTZ (profiles.yml: the wall-clock timestamps
  DuckDB and the marts' contracts use): silently null schedule dates and month ends.
  timestampadd keeps the wall clock and clamps month steps to the month's end
  (2024-01-31 + 1 month = 2024-02-29), as DuckDB's interval arithmetic does; every
  caller casts the result to date. The interval is cast to int as dbt-spark does.
-#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- if datepart | lower not in ['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second', 'millisecond', 'microsecond'] -%}
        {{ exceptions.raise_compiler_error("dateadd: datepart '" ~ datepart ~ "' is not supported on Spark") }}
    {%- endif -%}
    timestampadd({{ datepart | upper }}, cast({{ interval }} as int), {{ from_date_or_timestamp }})
{%- endmacro %}
