-- Every snapshot's OpportunityLineItem Ids up to the as-of date: which lines existed in the
-- previous snapshot, for potential subscriptions at line-item grain (SPEC 4.7).
with source as (
    select * from {{ source('crm', 'opportunity_line_item') }}
    where _snapshot_date <= {{ as_of_date() }}
),

renamed as (
    select
        "Id"            as line_item_id,
        "OpportunityId" as opportunity_id,
        _snapshot_date  as snapshot_date
    from source
)

select * from renamed
