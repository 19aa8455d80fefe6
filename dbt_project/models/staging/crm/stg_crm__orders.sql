-- Current state of Order (SPEC 4.1): its rows in the current snapshot.
with source as (
    {{ rows_in_snapshot(source('crm', 'order'), current_snapshot_date()) }}
),

renamed as (
    select
        Id             as order_id,
        AccountId      as account_id,
        OpportunityId  as opportunity_id,
        ContractId     as contract_id,
        Status         as status,
        Type           as type,
        EffectiveDate  as effective_date,
        EndDate        as end_date,
        ActivatedDate  as activated_date,
        CreatedDate    as created_date,
        _snapshot_date as snapshot_date
    from source
)

select * from renamed
