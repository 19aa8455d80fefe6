-- Forecast accuracy (SPEC 4.12): every snapshot's close-month forecast, by method, against
-- what closed won in the as-of snapshot.
with by_owner as (
    select * from {{ ref('int_forecast_snapshots_by_owner') }}
),

totals as (
    select
        snapshot_date,
        close_month,
        method,
        method_order,
        sum(forecast_amount) as forecast_amount,
        sum(forecast_mrr) as forecast_mrr,
        sum(actual_amount) as actual_amount,
        sum(actual_mrr) as actual_mrr
    from by_owner
    group by all
),

final as (
    select
        snapshot_date,
        close_month,
        cast({{ dbt.datediff('snapshot_date', 'last_day(close_month)', 'day') }} as integer) as days_before_month_end,  -- noqa: LT05
        method,
        cast(method_order as integer) as method_order,
        cast(forecast_amount as decimal(18, 2)) as forecast_amount,
        cast(forecast_mrr as decimal(18, 2)) as forecast_mrr,
        cast(actual_amount as decimal(18, 2)) as actual_amount,
        cast(actual_mrr as decimal(18, 2)) as actual_mrr,
        cast(forecast_amount - actual_amount as decimal(18, 2)) as error_amount,
        cast(forecast_mrr - actual_mrr as decimal(18, 2)) as error_mrr,
        cast(
            case
                when actual_amount != 0
                    then round(100 * abs(forecast_amount - actual_amount) / abs(actual_amount), 4)
            end
            as decimal(18, 4)
        ) as abs_pct_error,
        last_day(close_month) < {{ as_of_date() }} as is_month_closed
    from totals
)

select * from final
