-- Current state of Account (SPEC 4.1): its rows in the current snapshot.
with source as (
    {{ rows_in_snapshot(source('crm', 'account'), current_snapshot_date()) }}
),

renamed as (
    select
        Id             as account_id,
        Name           as account_name,
        Website        as website,
        BillingCountry as billing_country,
        ParentId       as parent_id,
        OwnerId        as owner_id,
        CSM__c         as csm_id,
        MasterRecordId as master_record_id,
        IsDeleted      as is_deleted,
        CreatedDate    as created_date,
        _snapshot_date as snapshot_date
    from source
)

select * from renamed
