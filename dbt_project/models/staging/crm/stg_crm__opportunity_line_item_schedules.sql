-- Current state of OpportunityLineItemSchedule (SPEC 4.1): its rows in the current snapshot.
with source as (
    {{ rows_in_snapshot(source('crm', 'opportunity_line_item_schedule'), current_snapshot_date()) }}
),

renamed as (
    select
        Id                    as schedule_id,
        OpportunityLineItemId as line_item_id,
        Type                  as type,
        ScheduleDate          as schedule_date,
        Quantity              as quantity,
        Revenue               as revenue,
        Description           as description,
        _snapshot_date        as snapshot_date
    from source
)

select * from renamed
