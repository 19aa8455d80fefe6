{#-
  Calendar helpers for contracts, renewals, co-termination and forecast lead times (SPEC 4.10,
  4.12). Month steps use dbt.dateadd, which clamps to the month's end (2024-01-31 + 1 month =
  2024-02-29).
-#}

{#-
  Salesforce's contract end: StartDate + ContractTerm months - 1 day.
  2023-03-01 + 12 -> 2024-02-29; 2024-01-31 + 1 -> 2024-02-28 (Feb 29 - 1 day);
  2024-02-29 + 12 -> 2025-02-27 (Feb 28 - 1 day). Null when either input is null.
-#}
{% macro contract_end_date(start_date, term_months) -%}
    cast(
        {{ dbt.dateadd('day', -1, dbt.dateadd('month', term_months, start_date)) }}
        as date
    )
{%- endmacro %}

{#- 'YYYY-Qn' of a date, e.g. '2026-Q4'. -#}
{% macro quarter_label(date_column) -%}
    cast(extract(year from {{ date_column }}) as {{ dbt.type_string() }})
    || '-Q' || cast(extract(quarter from {{ date_column }}) as {{ dbt.type_string() }})
{%- endmacro %}

{#- Running quarter number (year x 4 + quarter - 1): differences count calendar quarters. -#}
{% macro quarter_index(date_column) -%}
    (extract(year from {{ date_column }}) * 4 + extract(quarter from {{ date_column }}) - 1)
{%- endmacro %}

{#- Whole days from start_date to end_date (negative when end_date is earlier), an integer. -#}
{% macro days_between(start_date, end_date) -%}
    cast({{ dbt.datediff(start_date, end_date, 'day') }} as integer)
{%- endmacro %}
