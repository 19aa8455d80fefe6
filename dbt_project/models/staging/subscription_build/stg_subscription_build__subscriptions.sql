-- The subscriptions the subscription builder (a Dagster asset, SPEC 4.8) wrote, as it wrote
-- them: dbt reads the builder's tables only through these staging models.
with source as (
    select * from {{ source('subscription_build', 'subscription_build_subscriptions') }}
),

final as (
    select
        subscription_id,
        master_account_id,
        source_opportunity_id,
        use_case_requested,
        use_case_applied,
        status,
        start_date,
        end_date,
        previous_subscription_id
    from source
)

select * from final
