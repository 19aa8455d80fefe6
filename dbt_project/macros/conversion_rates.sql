{#-
  The DatedConversionRate rows a conversion may use (SPEC 4.3): a positive rate with a
  start date, its currency code trimmed and upper-case. One rule for every model that
  converts (opportunities, their versions, MRR at current rates); `dated_rates` is the
  staged rates' relation or CTE. One rate per currency and start date: should two rows
  share them (codes differing only in case or spaces), the lowest rate, so that which
  rate is in force never depends on the engine's row order.
-#}
{% macro usable_conversion_rates(dated_rates) -%}
    select
        upper(trim(iso_code)) as currency_iso_code,
        conversion_rate,
        start_date,
        next_start_date
    from {{ dated_rates }}
    where conversion_rate > 0 and start_date is not null
    qualify row_number() over (
        partition by upper(trim(iso_code)), start_date
        order by conversion_rate, next_start_date nulls last
    ) = 1
{%- endmacro %}

{#-
  A FROM clause: each row of `rows` (with its alias) joined to the usable rate of its
  currency that started last on or before its day (whether that rate is still in force
  is the caller's test, on r.next_start_date). A row with no such rate is dropped.
  DuckDB does this with its ASOF join (fast, kept); Spark has no ASOF join, so there each
  rate carries the start of the currency's next usable rate and the join takes the one
  whose [start, next start) holds the day: the same single match, since
  usable_conversion_rates keeps one rate per currency and start date.
-#}
{% macro latest_started_rate_join(rows, currency, day, rates='usable_rates', rate_alias='r') -%}
    {{ return(adapter.dispatch('latest_started_rate_join', 'recurwise')(
        rows, currency, day, rates, rate_alias
    )) }}
{%- endmacro %}

{% macro default__latest_started_rate_join(rows, currency, day, rates, rate_alias) -%}
    {{ rows }}
    asof inner join {{ rates }} as {{ rate_alias }}
        on
            {{ currency }} = {{ rate_alias }}.currency_iso_code
            and {{ day }} >= {{ rate_alias }}.start_date
{%- endmacro %}

{% macro spark__latest_started_rate_join(rows, currency, day, rates, rate_alias) -%}
    {{ rows }}
    inner join (
        select
            *,
            lead(start_date) over (partition by currency_iso_code order by start_date)
                as next_usable_start_date
        from {{ rates }}
    ) as {{ rate_alias }}
        on
            {{ currency }} = {{ rate_alias }}.currency_iso_code
            and {{ day }} >= {{ rate_alias }}.start_date
            and ({{ rate_alias }}.next_usable_start_date is null or {{ day }} < {{ rate_alias }}.next_usable_start_date)
{%- endmacro %}
