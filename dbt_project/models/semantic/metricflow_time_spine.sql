-- MetricFlow's time spine (one row per day): the calendar the semantic layer joins to for
-- metric_time. 2000-01-01 .. 2049-12-31 covers any CRM history and forecast horizon.
with days as (
    {{ dbt.date_spine('day', "cast('2000-01-01' as date)", "cast('2050-01-01' as date)") }}
),

final as (
    select cast(date_day as date) as date_day
    from days
)

select * from final
