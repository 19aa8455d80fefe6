{#-
  The marts' `not_null` constraints (contracts, SPEC 5) on Spark. DuckDB enforces them as
  the table is written. A Parquet table on Spark cannot hold them (dbt-spark's ALTER
  COLUMN ... SET NOT NULL is for Delta tables only, and fails on Parquet), so on Spark
  the table just written is checked instead, one scan for all its constrained columns:
  the model fails, naming the columns that hold nulls, as DuckDB's insert would.
  Overrides dbt-spark's persist_constraints (dbt's own macros are looked up in the root
  project first).
-#}
{% macro spark__persist_constraints(relation, model) %}
    {%- if not config.get('contract').enforced -%}
        {{ return('') }}
    {%- endif -%}
    {%- set not_null_columns = [] -%}
    {%- for name, column in model.columns.items() -%}
        {%- if column['constraints'] | selectattr('type', 'equalto', 'not_null') | list -%}
            {%- do not_null_columns.append(adapter.quote(name) if column['quote'] else name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not not_null_columns -%}
        {{ return('') }}
    {%- endif -%}
    {%- set counts = [] -%}
    {%- for column in not_null_columns -%}
        {%- do counts.append('count_if(' ~ column ~ ' is null)') -%}
    {%- endfor -%}
    {%- set row = run_query('select ' ~ counts | join(', ') ~ ' from ' ~ relation).rows[0] -%}
    {%- set with_nulls = [] -%}
    {%- for column in not_null_columns -%}
        {%- if row[loop.index0] > 0 -%}
            {%- do with_nulls.append(column ~ ' (' ~ row[loop.index0] ~ ' rows)') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if with_nulls -%}
        {{ exceptions.raise_compiler_error(
            'not_null constraint violated in ' ~ relation ~ ': ' ~ with_nulls | join(', ')
        ) }}
    {%- endif -%}
{% endmacro %}
