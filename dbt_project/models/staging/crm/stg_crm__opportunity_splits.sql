-- Current state of OpportunitySplit (SPEC 4.1): its rows in the current snapshot.
with source as (
    {{ rows_in_snapshot(source('crm', 'opportunity_split'), current_snapshot_date()) }}
),

renamed as (
    select
        Id              as split_id,
        OpportunityId   as opportunity_id,
        SplitOwnerId    as split_owner_id,
        SplitPercentage as split_percentage,
        SplitTypeId     as split_type_id,
        _snapshot_date  as snapshot_date
    from source
)

select * from renamed
