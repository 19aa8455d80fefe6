{#-
  The Spark engine's lakehouse (SPEC 8, dagster_project/lib/lakehouse.py): every relation
  at <lakehouse>/<schema>/<table>/, RECURWISE_WORK_LAKEHOUSE being the build's work lakehouse.
  DuckDB builds never call these (target type duckdb).
-#}

{#- A schema's tables in its own folder (dbt-spark's default is <warehouse dir>/<schema>.db/). -#}
{% macro spark__create_schema(relation) -%}
    {%- call statement('create_schema') -%}
        create schema if not exists {{ relation.without_identifier() }}
        location '{{ env_var('RECURWISE_WORK_LAKEHOUSE') }}/{{ relation.schema }}'
    {%- endcall -%}
{%- endmacro %}

{#-
  on-run-start: name the tables this dbt run reads but did not write, the raw export and the
  subscription builder's output (RECURWISE_LAKEHOUSE_TABLES: schema.table, comma-separated),
  as external Parquet tables over their folders. Dropping one forgets the name, never the files.
-#}
{% macro register_lakehouse_tables() -%}
    {%- if target.type == 'spark' and execute -%}
        {%- set root = env_var('RECURWISE_WORK_LAKEHOUSE') -%}
        {%- for name in env_var('RECURWISE_LAKEHOUSE_TABLES', '').split(',') if name -%}
            {%- set schema, table = name.split('.') -%}
            {%- do run_query('create schema if not exists ' ~ schema ~ " location '" ~ root ~ '/' ~ schema ~ "'") -%}
            {%- do run_query('drop table if exists ' ~ schema ~ '.' ~ table) -%}
            {%- do run_query('create table ' ~ schema ~ '.' ~ table ~ " using parquet location '" ~ root ~ '/' ~ schema ~ '/' ~ table ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
