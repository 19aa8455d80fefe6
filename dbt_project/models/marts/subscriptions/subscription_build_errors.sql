-- Sources the subscription builder skipped, with the reason (SPEC 4.8).
with errors as (
    select * from {{ source('subscription_build', 'subscription_build_errors') }}
),

final as (
    select
        opportunity_id,
        master_account_id,
        use_case_requested,
        message
    from errors
)

select * from final
