{#-
  A JSON document (build_info.settings, SPEC 5). DuckDB has a JSON type, published as
  such; Spark has none, so the same text is a string there (readers parse it with
  from_json / get_json_object).
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
  The marts' contracts name DuckDB's types (SPEC 5), and tests/contracts.py creates
  DuckDB tables from them as written. On Spark, dbt checks a contract against
  `cast(null as <data_type>)` of every column: there `json` is read as type_json().
  Overrides dbt's get_empty_schema_sql on Spark (dbt's own macros are looked up in the
  root project first).
-#}
{% macro spark__get_empty_schema_sql(columns) %}
    {%- set spark_columns = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set spark_column = {} -%}
        {%- do spark_column.update(column) -%}
        {%- if (column.get('data_type') or '') | lower == 'json' -%}
            {%- do spark_column.update({'data_type': type_json()}) -%}
        {%- endif -%}
        {%- do spark_columns.update({name: spark_column}) -%}
    {%- endfor -%}
    {{ return(dbt.default__get_empty_schema_sql(spark_columns)) }}
{% endmacro %}
