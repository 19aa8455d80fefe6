-- Subscriptions built by the subscription builder (SPEC 4.8), one row per subscription.
with subscriptions as (
    select * from {{ ref('stg_subscription_build__subscriptions') }}
),

final as (
    select
        subscription_id,
        master_account_id,
        source_opportunity_id,
        use_case_requested,
        use_case_applied,
        status,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        previous_subscription_id
    from subscriptions
)

select * from final
