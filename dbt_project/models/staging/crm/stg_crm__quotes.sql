-- Current state of Quote (SPEC 4.1): its rows in the current snapshot.
with source as (
    {{ rows_in_snapshot(source('crm', 'quote'), current_snapshot_date()) }}
),

renamed as (
    select
        Id             as quote_id,
        OpportunityId  as opportunity_id,
        Status         as status,
        ExpirationDate as expiration_date,
        IsSyncing      as is_syncing,
        GrandTotal     as grand_total,
        CreatedDate    as created_date,
        _snapshot_date as snapshot_date
    from source
)

select * from renamed
