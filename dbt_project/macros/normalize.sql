{#- Website → bare domain: lowercase, no scheme, no www., no path, query or port (SPEC 4.2). -#}
{% macro normalized_domain(column) -%}
    nullif(
        regexp_replace(
            regexp_replace(lower(trim({{ column }})), '^[a-z][a-z0-9+.-]*://', ''),
            '^www\.|[/?#:].*$', '', 'g'
        ),
        ''
    )
{%- endmacro %}

{#-
  Account name → comparison key (SPEC 4.2): lowercase, accents and punctuation removed,
  trailing legal suffixes removed. "ACME, Inc." and "Acme Co. LLC" both become "acme".
-#}
{% macro normalized_company_name(column) -%}
    nullif(
        regexp_replace(
            trim(regexp_replace(strip_accents(lower(coalesce({{ column }}, ''))), '[^a-z0-9]+', ' ', 'g')),
            '( (inc|incorporated|llc|ltd|limited|gmbh|sa|bv|corp|corporation|co|plc|ag|sarl|srl|oy|ab|nv|pty|kg))+$',
            ''
        ),
        ''
    )
{%- endmacro %}
