{#-
  The value of `value` on the row with the smallest (value_at_min) or largest
  (value_at_max) `order_by`, in a group: DuckDB's arg_min / arg_max, which skip rows where
  either is null. `order_by` is one expression or a list, compared in order like a row
  (a tuple: the later expressions break ties of the earlier ones).

  Spark names them min_by / max_by, and they differ twice: they keep a row whose value is
  null (so the order is nulled there, which skips it as DuckDB does), and in a struct a
  null field sorts first where DuckDB's tuples sort it last (so each field is preceded by
  its is-null flag). A tie on the whole order picks any row on either engine: callers make
  the order unique.
-#}
{% macro value_at_min(value, order_by) -%}
    {{ return(adapter.dispatch('value_at_min', 'recurwise')(value, order_by)) }}
{%- endmacro %}

{% macro value_at_max(value, order_by) -%}
    {{ return(adapter.dispatch('value_at_max', 'recurwise')(value, order_by)) }}
{%- endmacro %}

{% macro default__value_at_min(value, order_by) -%}
    arg_min({{ value }}, {{ _duckdb_row_order(order_by) }})
{%- endmacro %}

{% macro default__value_at_max(value, order_by) -%}
    arg_max({{ value }}, {{ _duckdb_row_order(order_by) }})
{%- endmacro %}

{% macro spark__value_at_min(value, order_by) -%}
    min_by({{ value }}, case when {{ value }} is not null then {{ _spark_row_order(order_by) }} end)
{%- endmacro %}

{% macro spark__value_at_max(value, order_by) -%}
    max_by({{ value }}, case when {{ value }} is not null then {{ _spark_row_order(order_by) }} end)
{%- endmacro %}

{% macro _duckdb_row_order(order_by) -%}
    {%- if order_by is string -%}
        {{ order_by }}
    {%- else -%}
        ({{ order_by | join(', ') }})
    {%- endif -%}
{%- endmacro %}

{% macro _spark_row_order(order_by) -%}
    {%- if order_by is string -%}
        {{ order_by }}
    {%- else -%}
        struct(
        {%- for expression in order_by -%}
            {{ expression }} is null, {{ expression }}{{ ', ' if not loop.last }}
        {%- endfor -%}
        )
    {%- endif -%}
{%- endmacro %}
