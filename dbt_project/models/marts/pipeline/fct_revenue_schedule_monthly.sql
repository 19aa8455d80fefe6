-- Scheduled quantity and revenue by schedule month x stage x forecast category x product
-- family (SPEC 4.5): the Salesforce "opportunities with schedules" pipeline report.
-- Closed-lost opportunities are left out; lines without schedules have no rows here.
with schedules as (
    select * from {{ ref('fct_schedules') }}
),

line_items as (
    select * from {{ ref('fct_line_items') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

scheduled as (
    select
        cast({{ dbt.date_trunc('month', 's.schedule_date') }} as date) as schedule_month,
        o.stage_name,
        o.forecast_category,
        li.product_family,
        s.opportunity_id,
        s.quantity,
        s.revenue
    from schedules as s
    inner join line_items as li on s.line_item_id = li.line_item_id
    inner join opportunities as o on s.opportunity_id = o.opportunity_id
    where not (coalesce(o.is_closed, false) and not coalesce(o.is_won, false))
),

final as (
    select
        schedule_month,
        stage_name,
        forecast_category,
        product_family,
        cast(coalesce(sum(quantity), 0) as decimal(18, 4)) as scheduled_quantity,
        cast(coalesce(sum(revenue), 0) as decimal(18, 2)) as scheduled_revenue,
        cast(count(distinct opportunity_id) as integer) as opportunity_count
    from scheduled
    group by schedule_month, stage_name, forecast_category, product_family
)

select * from final
