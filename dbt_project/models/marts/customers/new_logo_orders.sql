-- Nextian's "New Account / Logo" list view of orders (SPEC 4.6): orders of opportunities flagged now.
with orders as (
    select * from {{ ref('fct_orders') }}
),

final as (
    select
        order_id,
        opportunity_id,
        account_id,
        master_account_id,
        contract_id,
        status,
        order_type,
        effective_date,
        activated_date,
        created_date,
        total_amount,
        is_new_logo,
        is_new_logo_original
    from orders
    where is_new_logo
)

select * from final
