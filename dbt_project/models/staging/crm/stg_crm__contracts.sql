-- Current state of Contract (SPEC 4.1): its rows in the current snapshot.
with source as (
    {{ rows_in_snapshot(source('crm', 'contract'), current_snapshot_date()) }}
),

renamed as (
    select
        Id                    as contract_id,
        AccountId             as account_id,
        ContractNumber        as contract_number,
        Status                as status,
        StartDate             as start_date,
        ContractTerm          as contract_term,
        EndDate               as end_date,
        OwnerExpirationNotice as owner_expiration_notice_days,
        ActivatedDate         as activated_date,
        _snapshot_date        as snapshot_date
    from source
)

select * from renamed
