-- Opportunity lines whose schedule Salesforce would refuse (SPEC 4.4): they get no
-- schedule rows, MRR 0 and TCV 0 until the line or its product is fixed.
with plans as (
    select * from {{ ref('int_schedules_planned') }}
),

final as (
    select
        line_item_id,
        opportunity_id,
        product_id,
        schedule_error_message as message
    from plans
    where has_schedule_error
)

select * from final
