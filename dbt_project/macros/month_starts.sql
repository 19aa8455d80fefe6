{#-
  A FROM item: the table spine(month), one row per month start from first_month (a
  month's first day) while before stop; none when stop <= first_month or either is null.
  DuckDB's range() table function does it (its stop is exclusive; months come as
  timestamps, callers cast them to date). Spark's range takes integers only, and its
  sequence() includes the end and fails when the end is before the start, so the Spark
  form runs to max(first, stop) and drops the months not before stop.
-#}
{% macro month_starts(first_month, stop) -%}
    {{ return(adapter.dispatch('month_starts', 'recurwise')(first_month, stop)) }}
{%- endmacro %}

{% macro default__month_starts(first_month, stop) -%}
    range({{ first_month }}, {{ stop }}, interval 1 month) as spine (month)
{%- endmacro %}

{% macro spark__month_starts(first_month, stop) -%}
    (
        select months.month
        from (
            select explode(sequence(
                cast({{ first_month }} as timestamp),
                greatest(cast({{ first_month }} as timestamp), cast({{ stop }} as timestamp)),
                interval 1 month
            )) as month
        ) as months
        where months.month < cast({{ stop }} as timestamp)
    ) as spine
{%- endmacro %}
