-- Sources the subscription builder skipped, with the reason (SPEC 4.8).
with errors as (
    select * from {{ ref('stg_subscription_build__errors') }}
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
