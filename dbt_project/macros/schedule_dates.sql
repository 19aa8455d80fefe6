{#-
  Set-based schedule explosion (SPEC 4.4). Wrapped in dispatched macros because the
  DuckDB idioms (unnest(range(n)), interval arithmetic) differ on Spark
  (explode(sequence(...)), add_months); a spark__ version can be added beside these.
-#}

{#- One row per installment index 0 .. n - 1 (use in a select list). -#}
{% macro installment_indexes(installment_count) -%}
    {{ return(adapter.dispatch('installment_indexes', 'recurwise')(installment_count)) }}
{%- endmacro %}

{% macro default__installment_indexes(installment_count) -%}
    unnest(range({{ installment_count }}))
{%- endmacro %}

{#- Spark's sequence(0, -1) counts down (two rows): a count of 0 or less gives none. -#}
{% macro spark__installment_indexes(installment_count) -%}
    explode(case when {{ installment_count }} > 0 then sequence(0, {{ installment_count }} - 1) end)
{%- endmacro %}

{#-
  Date of installment k (0-based) of a schedule starting on start_date with the given
  installment period (Daily, Weekly, Monthly, Quarterly, Yearly). Month steps are added
  to the start each time (never month after month), so they clamp to the month's end:
  2024-01-31, 2024-02-29, 2024-03-31.
-#}
{% macro installment_date(start_date, installment_period, installment_index) -%}
    cast(
        case {{ installment_period }}
            when 'Daily' then {{ dbt.dateadd('day', installment_index, start_date) }}
            when 'Weekly' then {{ dbt.dateadd('day', '7 * ' ~ installment_index, start_date) }}
            when 'Monthly' then {{ dbt.dateadd('month', installment_index, start_date) }}
            when 'Quarterly' then {{ dbt.dateadd('month', '3 * ' ~ installment_index, start_date) }}
            when 'Yearly' then {{ dbt.dateadd('month', '12 * ' ~ installment_index, start_date) }}
        end
        as date
    )
{%- endmacro %}

{#-
  Canonical installment period name (Daily, Weekly, Monthly, Quarterly, Yearly) of a
  CRM value in any case; anything else is returned as entered so errors can name it.
-#}
{% macro canonical_installment_period(column) -%}
    case lower(trim({{ column }}))
        when 'daily' then 'Daily'
        when 'weekly' then 'Weekly'
        when 'monthly' then 'Monthly'
        when 'quarterly' then 'Quarterly'
        when 'yearly' then 'Yearly'
        else nullif(trim({{ column }}), '')
    end
{%- endmacro %}

{#- Canonical schedule type (Divide, Repeat); anything else as entered. -#}
{% macro canonical_schedule_type(column) -%}
    case lower(trim({{ column }}))
        when 'divide' then 'Divide'
        when 'repeat' then 'Repeat'
        else nullif(trim({{ column }}), '')
    end
{%- endmacro %}
