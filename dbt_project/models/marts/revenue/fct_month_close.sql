-- Each closed month's figures as reported (frozen when the month closed) and as restated
-- today (SPEC 4.12); fct_restatements lists the records behind every difference.
with frozen as (
    select * from {{ ref('int_month_close_frozen') }}
    where record_type = 'month_total'
),

restated as (
    select * from {{ ref('int_month_close_restated') }}
    where record_type = 'month_total'
),

final as (
    select
        r.month,
        r.metric,
        r.metric_order,
        cast(f.value as decimal(18, 2)) as reported_value,
        cast(r.value as decimal(18, 2)) as restated_value,
        cast(r.value - f.value as decimal(18, 2)) as difference,
        f.frozen_at_as_of
    from restated as r
    inner join frozen as f on r.month = f.month and r.metric = f.metric
)

select * from final
