-- The sources the subscription builder (SPEC 4.8) skipped, with its reason, as it wrote them.
with source as (
    select * from {{ source('subscription_build', 'subscription_build_errors') }}
),

final as (
    select
        opportunity_id,
        master_account_id,
        use_case_requested,
        message
    from source
)

select * from final
