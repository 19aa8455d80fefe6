{#-
  A 64-bit hash of a row's values, to tell whether a row changed between two snapshots
  (fct_opportunity_history). DuckDB's hash() is 64-bit; Spark's hash() is 32-bit (Murmur3),
  which would make a missed change about four billion times likelier, so Spark uses
  xxhash64. The values differ between engines; only equality within one build matters.
-#}
{% macro row_hash(columns) -%}
    {{ return(adapter.dispatch('row_hash', 'recurwise')(columns)) }}
{%- endmacro %}

{% macro default__row_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__row_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}
