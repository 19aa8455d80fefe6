-- Subscription item versions (SPEC 4.8): a replaced or upgraded item keeps its old version,
-- so MRR history stays true. Prices are the source line's, converted at its close date.
with items as (
    select * from {{ ref('stg_subscription_build__items') }}
),

subscriptions as (
    select
        subscription_id,
        master_account_id
    from {{ ref('stg_subscription_build__subscriptions') }}
),

final as (
    select
        i.subscription_item_id,
        i.subscription_id,
        s.master_account_id,
        i.order_no,
        i.product_id,
        cast(i.quantity as decimal(18, 4)) as quantity,
        cast(i.net_unit_price as decimal(18, 4)) as net_unit_price,
        cast(i.mrr as decimal(18, 2)) as mrr,
        cast(12 * i.mrr as decimal(18, 2)) as arr,
        cast(i.start_date as date) as start_date,
        cast(i.end_date as date) as end_date,
        i.is_recurring,
        i.source_line_item_id,
        i.source_opportunity_id,
        i.cloned_from_item_id
    from items as i
    inner join subscriptions as s on i.subscription_id = s.subscription_id
)

select * from final
