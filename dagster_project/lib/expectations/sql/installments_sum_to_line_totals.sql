-- Parts sum to the total: a line's installments add up to its scheduled quantity or TCV.
with row_totals as (
    select
        line_item_id,
        schedule_type,
        sum(quantity) as quantity,
        sum(revenue) as revenue,
        sum(revenue_original) as revenue_original
    from marts.fct_schedules
    group by line_item_id, schedule_type
),

expected as (
    select line_item_id, 'quantity' as schedule_type, scheduled_quantity as quantity,
        null as revenue, null as revenue_original
    from marts.fct_line_items
    where quantity_schedule_source is not null and not has_schedule_error
    union all
    select line_item_id, 'revenue' as schedule_type, null as quantity,
        tcv as revenue, tcv_original as revenue_original
    from marts.fct_line_items
    where revenue_schedule_source is not null and not has_schedule_error
),

compared as (
    select
        coalesce(e.line_item_id, r.line_item_id) as line_item_id,
        coalesce(e.schedule_type, r.schedule_type) as schedule_type,
        -- 1 = schedule rows without a schedule on the line, or a schedule without rows
        cast((e.line_item_id is null) or (r.line_item_id is null) as integer) as unmatched,
        cast(case coalesce(e.schedule_type, r.schedule_type)
            when 'quantity' then coalesce(r.quantity, 0) - coalesce(e.quantity, 0)
            else coalesce(r.revenue, 0) - coalesce(e.revenue, 0)
        end as double) as difference,
        cast(case coalesce(e.schedule_type, r.schedule_type)
            when 'revenue' then coalesce(r.revenue_original, 0) - coalesce(e.revenue_original, 0)
            else 0
        end as double) as difference_original
    from expected as e
    full outer join row_totals as r
        on e.line_item_id = r.line_item_id and e.schedule_type = r.schedule_type
)

select *
from compared
order by unmatched desc, abs(difference) + abs(difference_original) desc, line_item_id,
    schedule_type
limit {limit}
