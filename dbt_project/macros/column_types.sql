{#-
  Column types DuckDB has and Spark names otherwise (SPEC 5 publishes DuckDB's). The
  marts' contracts (YAML data_type) name the same type per target.
-#}

{#-
  A JSON document (build_info.settings). DuckDB has a JSON type; Spark has none, so the
  same text is a string there (readers parse it with from_json / get_json_object).
-#}
{% macro type_json() %}
    {{- return(adapter.dispatch('type_json', 'recurwise')()) -}}
{% endmacro %}

{% macro default__type_json() %}
    {{- return('json') -}}
{% endmacro %}

{% macro spark__type_json() %}
    {{- return(dbt.type_string()) -}}
{% endmacro %}

{#-
  A date-time without a time zone, as the exports give them (read in the org's time zone
  at ingest). DuckDB's `timestamp` is that; Spark's `timestamp` is an instant shown in the
  session's time zone, and its `timestamp_ntz` is the wall-clock kind (what Spark reads
  from the raw Parquet that DuckDB wrote).
-#}
{% macro type_timestamp_without_zone() %}
    {{- return(adapter.dispatch('type_timestamp_without_zone', 'recurwise')()) -}}
{% endmacro %}

{% macro default__type_timestamp_without_zone() %}
    {{- return('timestamp') -}}
{% endmacro %}

{% macro spark__type_timestamp_without_zone() %}
    {{- return('timestamp_ntz') -}}
{% endmacro %}
