-- The subscription item versions the subscription builder (SPEC 4.8) wrote, as it wrote them.
with source as (
    select * from {{ source('subscription_build', 'subscription_build_items') }}
),

final as (
    select
        subscription_item_id,
        subscription_id,
        order_no,
        product_id,
        quantity,
        net_unit_price,
        mrr,
        start_date,
        end_date,
        source_line_item_id,
        source_opportunity_id,
        cloned_from_item_id,
        is_recurring
    from source
)

select * from final
