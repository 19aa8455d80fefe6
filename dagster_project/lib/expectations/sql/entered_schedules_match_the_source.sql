-- Against the source file: per line and type, entered installments (not generated) add
-- up to the OpportunityLineItemSchedule rows of the current snapshot (a Both row counts
-- for each type), in the opportunity's currency; lines in schedule_errors have no rows.
with source_rows as (
    select
        s.line_item_id,
        t.schedule_type,
        count(*) as source_rows,
        sum(case t.schedule_type when 'quantity' then coalesce(s.quantity, 0)
            else coalesce(s.revenue, 0) end) as source_total
    from staging.stg_crm__opportunity_line_item_schedules as s
    inner join (values ('quantity'), ('revenue')) as t (schedule_type)
        on lower(trim(s.type)) in (t.schedule_type, 'both')
    group by s.line_item_id, t.schedule_type
),

scheduled_lines as (
    select line_item_id
    from marts.fct_line_items
    where line_item_id not in (select line_item_id from marts.schedule_errors)
),

expected as (
    select r.*
    from source_rows as r
    inner join scheduled_lines as l on r.line_item_id = l.line_item_id
),

entered as (
    select
        line_item_id,
        schedule_type,
        count(*) as entered_rows,
        sum(case schedule_type when 'quantity' then quantity else revenue_original end)
            as entered_total
    from marts.fct_schedules
    where not is_generated
    group by line_item_id, schedule_type
),

compared as (
    select
        coalesce(e.line_item_id, x.line_item_id) as line_item_id,
        coalesce(e.schedule_type, x.schedule_type) as schedule_type,
        coalesce(x.source_rows, 0) as source_rows,
        coalesce(e.entered_rows, 0) as entered_rows,
        cast(coalesce(e.entered_total, 0) - coalesce(x.source_total, 0) as double) as difference,
        -- each entered row is rounded on its own: to the cent, quantities to 4 decimals
        case coalesce(e.schedule_type, x.schedule_type)
            when 'quantity' then 0.00005 else 0.005
        end * greatest(coalesce(x.source_rows, 0), 1) + 1e-9 as rounding_tolerance
    from entered as e
    full outer join expected as x
        on e.line_item_id = x.line_item_id and e.schedule_type = x.schedule_type
)

select
    *,
    abs(difference) as abs_difference,
    cast(abs(source_rows - entered_rows) as double) as missing_rows
from compared
order by abs(source_rows - entered_rows) desc, abs(difference) - rounding_tolerance desc,
    line_item_id, schedule_type
limit {limit}
