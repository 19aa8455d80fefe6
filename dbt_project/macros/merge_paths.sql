{#-
  The merge chain of an account (int_accounts_mastered, SPEC 4.2) as a list of account
  Ids: the account, then what it was merged into, and so on. DuckDB's list syntax and
  functions have other names on Spark (array functions), and two DuckDB forms are
  silently wrong there: `path[-1]` is null on Spark (its [] counts from 0 and has no
  negative index), so the last element goes through element_at.
-#}
{% macro merge_path_start(account_id) -%}
    {{ return(adapter.dispatch('merge_path_start', 'recurwise')(account_id)) }}
{%- endmacro %}

{% macro default__merge_path_start(account_id) -%}
    [{{ account_id }}]
{%- endmacro %}

{% macro spark__merge_path_start(account_id) -%}
    array({{ account_id }})
{%- endmacro %}

{#- The path followed one more merge, to account_id. -#}
{% macro merge_path_extended(path, account_id) -%}
    {{ return(adapter.dispatch('merge_path_extended', 'recurwise')(path, account_id)) }}
{%- endmacro %}

{% macro default__merge_path_extended(path, account_id) -%}
    list_append({{ path }}, {{ account_id }})
{%- endmacro %}

{% macro spark__merge_path_extended(path, account_id) -%}
    concat({{ path }}, array({{ account_id }}))
{%- endmacro %}

{% macro merge_path_contains(path, account_id) -%}
    {{ return(adapter.dispatch('merge_path_contains', 'recurwise')(path, account_id)) }}
{%- endmacro %}

{% macro default__merge_path_contains(path, account_id) -%}
    list_contains({{ path }}, {{ account_id }})
{%- endmacro %}

{% macro spark__merge_path_contains(path, account_id) -%}
    array_contains({{ path }}, {{ account_id }})
{%- endmacro %}

{#- The account the path has reached so far (its last element). -#}
{% macro merge_path_end(path) -%}
    {{ return(adapter.dispatch('merge_path_end', 'recurwise')(path)) }}
{%- endmacro %}

{% macro default__merge_path_end(path) -%}
    {{ path }}[-1]
{%- endmacro %}

{% macro spark__merge_path_end(path) -%}
    element_at({{ path }}, -1)
{%- endmacro %}

{% macro merge_path_length(path) -%}
    {{ return(adapter.dispatch('merge_path_length', 'recurwise')(path)) }}
{%- endmacro %}

{% macro default__merge_path_length(path) -%}
    len({{ path }})
{%- endmacro %}

{% macro spark__merge_path_length(path) -%}
    size({{ path }})
{%- endmacro %}

{#- The lowest Id of the merge cycle the path ends in: from account_id's place to the end. -#}
{% macro merge_cycle_lowest_id(path, account_id) -%}
    {{ return(adapter.dispatch('merge_cycle_lowest_id', 'recurwise')(path, account_id)) }}
{%- endmacro %}

{% macro default__merge_cycle_lowest_id(path, account_id) -%}
    list_min({{ path }}[list_position({{ path }}, {{ account_id }}):])
{%- endmacro %}

{% macro spark__merge_cycle_lowest_id(path, account_id) -%}
    array_min(slice(
        {{ path }},
        array_position({{ path }}, {{ account_id }}),
        size({{ path }}) - array_position({{ path }}, {{ account_id }}) + 1
    ))
{%- endmacro %}
