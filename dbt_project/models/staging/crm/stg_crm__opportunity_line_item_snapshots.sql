-- Every snapshot's OpportunityLineItem Ids up to the as-of date: which lines existed in the
-- previous snapshot, for potential subscriptions at line-item grain (SPEC 4.7).
with source as (
    {{ rows_in_every_snapshot(source('crm', 'opportunity_line_item')) }}
),

renamed as (
    select
        Id             as line_item_id,
        OpportunityId  as opportunity_id,
        _snapshot_date as snapshot_date
    from source
)

select * from renamed
