-- Every schedule sums exactly to its line's total, per schedule type (SPEC 4.4): the
-- quantity rows to scheduled_quantity, the revenue rows to TCV in corporate and in the
-- opportunity's currency. A line with a schedule but no rows, or rows but no schedule,
-- fails too.
with schedules as (
    select * from {{ ref('fct_schedules') }}
),

line_items as (
    select * from {{ ref('fct_line_items') }}
),

row_totals as (
    select
        line_item_id,
        schedule_type,
        sum(quantity) as quantity,
        sum(revenue) as revenue,
        sum(revenue_original) as revenue_original
    from schedules
    group by line_item_id, schedule_type
),

expected as (
    select
        line_item_id,
        'quantity' as schedule_type,
        scheduled_quantity as quantity,
        null as revenue,
        null as revenue_original
    from line_items
    where quantity_schedule_source is not null and not has_schedule_error

    union all

    select
        line_item_id,
        'revenue' as schedule_type,
        null as quantity,
        tcv as revenue,
        tcv_original as revenue_original
    from line_items
    where revenue_schedule_source is not null and not has_schedule_error
)

select
    coalesce(e.line_item_id, r.line_item_id) as line_item_id,
    coalesce(e.schedule_type, r.schedule_type) as schedule_type,
    e.quantity as expected_quantity,
    r.quantity as scheduled_quantity,
    e.revenue as expected_revenue,
    r.revenue as scheduled_revenue,
    e.revenue_original as expected_revenue_original,
    r.revenue_original as scheduled_revenue_original
from expected as e
full outer join row_totals as r
    on e.line_item_id = r.line_item_id and e.schedule_type = r.schedule_type
where
    e.line_item_id is null
    or r.line_item_id is null
    or e.quantity is distinct from r.quantity
    or e.revenue is distinct from r.revenue
    or e.revenue_original is distinct from r.revenue_original
