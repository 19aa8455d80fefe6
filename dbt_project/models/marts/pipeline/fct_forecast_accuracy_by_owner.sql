-- How good each owner's forecasts were, by method and lead time (SPEC 4.12's summary), over
-- the close months that are closed: a forecast against an unfinished month says nothing yet.
with by_owner as (
    select * from {{ ref('int_forecast_snapshots_by_owner') }}
),

closed as (
    select
        *,
        {{ days_between('snapshot_date', 'last_day(close_month)') }} as lead_days,
        case
            when actual_amount != 0
                then 100 * abs(forecast_amount - actual_amount) / abs(actual_amount)
        end as abs_pct_error
    from by_owner
    where last_day(close_month) < {{ as_of_date() }}
),

bucketed as (
    select
        *,
        case
            when lead_days < 7 then 0
            when lead_days < 14 then 7
            when lead_days < 30 then 14
            when lead_days < 60 then 30
            when lead_days < 90 then 60
            else 90
        end as lead_time_min_days
    from closed
),

final as (
    select
        owner_id,
        method,
        cast(any_value(method_order) as integer) as method_order,
        case lead_time_min_days
            when 0 then '0-6 days'
            when 7 then '7-13 days'
            when 14 then '14-29 days'
            when 30 then '30-59 days'
            when 60 then '60-89 days'
            else '90+ days'
        end as lead_time_bucket,
        cast(lead_time_min_days as integer) as lead_time_min_days,
        cast(count(distinct close_month) as integer) as close_months,
        cast(count(*) as integer) as observations,
        cast(sum(forecast_amount) as decimal(18, 2)) as forecast_amount,
        cast(sum(actual_amount) as decimal(18, 2)) as actual_amount,
        cast(sum(forecast_amount - actual_amount) as decimal(18, 2)) as error_amount,
        cast(round(avg(abs_pct_error), 4) as decimal(18, 4)) as mean_abs_pct_error,
        cast(
            case
                when sum(actual_amount) != 0
                    then round(100 * sum(forecast_amount - actual_amount) / sum(actual_amount), 4)
            end
            as decimal(18, 4)
        ) as bias_pct
    from bucketed
    group by owner_id, method, lead_time_min_days
)

select * from final
