{#-
  The DatedConversionRate rows a conversion may use (SPEC 4.3): a positive rate with a
  start date, its currency code trimmed and upper-case. One rule for every model that
  converts (opportunities, their versions, MRR at current rates); `dated_rates` is the
  staged rates' relation or CTE.
-#}
{% macro usable_conversion_rates(dated_rates) -%}
    select
        upper(trim(iso_code)) as currency_iso_code,
        conversion_rate,
        start_date,
        next_start_date
    from {{ dated_rates }}
    where conversion_rate > 0 and start_date is not null
{%- endmacro %}
