-- Forecast accuracy (SPEC 4.12): every snapshot's close-month forecast, by method, against
-- what closed won in the as-of snapshot.
with by_owner as (
    select * from {{ ref('int_forecast_snapshots_by_owner') }}
),

-- Every snapshot and close month from the snapshot's month on, so a month that was not
-- forecast at all (its deals came later) still meets its actual.
snapshots as (
    select distinct snapshot_date from by_owner
),

close_months as (
    select distinct close_month from by_owner
),

methods as (
    select distinct
        method,
        method_order
    from by_owner
),

spine as (
    select
        s.snapshot_date,
        m.close_month,
        x.method,
        x.method_order
    from snapshots as s
    inner join close_months as m
        on m.close_month >= cast({{ dbt.date_trunc('month', 's.snapshot_date') }} as date)
    cross join methods as x
),

forecasts as (
    select
        snapshot_date,
        close_month,
        method,
        sum(forecast_amount) as forecast_amount,
        sum(forecast_mrr) as forecast_mrr
    from by_owner
    group by all
),

-- An owner's actual is the same at every snapshot: once per owner, then per month.
owner_actuals as (
    select
        close_month,
        owner_id,
        any_value(actual_amount) as actual_amount,
        any_value(actual_mrr) as actual_mrr
    from by_owner
    group by close_month, owner_id
),

actuals as (
    select
        close_month,
        sum(actual_amount) as actual_amount,
        sum(actual_mrr) as actual_mrr
    from owner_actuals
    group by close_month
),

totals as (
    select
        sp.snapshot_date,
        sp.close_month,
        sp.method,
        sp.method_order,
        coalesce(f.forecast_amount, 0) as forecast_amount,
        coalesce(f.forecast_mrr, 0) as forecast_mrr,
        coalesce(a.actual_amount, 0) as actual_amount,
        coalesce(a.actual_mrr, 0) as actual_mrr
    from spine as sp
    left join forecasts as f
        on
            sp.snapshot_date = f.snapshot_date
            and sp.close_month = f.close_month
            and sp.method = f.method
    left join actuals as a on sp.close_month = a.close_month
    where f.snapshot_date is not null or a.actual_amount != 0 or a.actual_mrr != 0
),

final as (
    select
        snapshot_date,
        close_month,
        {{ days_between('snapshot_date', 'last_day(close_month)') }} as days_before_month_end,
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
