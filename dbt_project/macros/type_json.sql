{#-
    The column type of a JSON document (build_info.settings, SPEC 5). DuckDB has a JSON
    type, published as such; Spark has none, so the same text is a string there (readers
    parse it with from_json / get_json_object). The contract in build_info.yml names the
    same type per target.
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
