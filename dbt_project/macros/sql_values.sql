{#-
  Settings reach SQL as values, never as SQL text (SPEC 6, Safety). recurwise checks every
  var against its declared type before dbt runs (dagster_project/lib/settings.py); these
  macros are the second line for a `dbt build --vars ...` run by hand: text is quoted as a
  SQL string literal, whole numbers and dates are refused unless they are exactly that.
-#}

{#- `value` as a SQL string literal: 'Partner''s Review'. -#}
{% macro sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- The var `name` as a whole number (none when it is null and `nullable`). -#}
{% macro integer_var(name, nullable=false) -%}
    {%- set value = var(name) -%}
    {%- if value is none and nullable -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if value is not integer or value is sameas true or value is sameas false -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a whole number, not " ~ (value | string)[:60]
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- The var `name` (YYYY-MM-DD) as a SQL date literal. -#}
{% macro date_var(name) -%}
    {%- set value = var(name) | string -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value) -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a date (YYYY-MM-DD), not " ~ value[:60]
        ) }}
    {%- endif -%}
    cast({{ sql_string(value) }} as date)
{%- endmacro %}
