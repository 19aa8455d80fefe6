-- One row per order of the current snapshot with its opportunity's new-logo flags (SPEC
-- 4.6: quotes and orders carry their opportunity's flags, current and original) and its
-- total. OrderItem.UnitPrice is the line's net price in the opportunity's currency, so the
-- total is converted at the opportunity's rate like every other amount (SPEC 4.3).
with orders as (
    select * from {{ ref('stg_crm__orders') }}
),

order_items as (
    select * from {{ ref('stg_crm__order_items') }}
),

account_masters as (
    select * from {{ ref('int_accounts_mastered') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

order_totals as (
    select
        order_id,
        count(*) as item_count,
        sum(cast(round(cast(quantity as decimal(38, 4)) * unit_price, 2) as decimal(38, 2)))
            as total_original
    from order_items
    group by order_id
),

final as (
    select
        o.order_id,
        o.account_id,
        coalesce(m.master_account_id, opp.master_account_id, o.account_id) as master_account_id,
        o.opportunity_id,
        o.contract_id,
        o.status,
        o.type as order_type,
        {{ is_cancelled_order_status('o.status') }} as is_cancelled,
        o.effective_date,
        o.end_date,
        cast(o.activated_date as date) as activated_date,
        o.activated_date as activated_at,
        o.created_date,
        cast(coalesce(t.item_count, 0) as integer) as item_count,
        cast(
            {{ divide_round('coalesce(t.total_original, 0)', 'coalesce(opp.conversion_rate, 1)', 2, 2, 8) }}
            as decimal(18, 2)
        ) as total_amount,
        cast(coalesce(t.total_original, 0) as decimal(18, 2)) as total_amount_original,
        coalesce(opp.currency_iso_code, {{ sql_string(var("corporate_currency")) }}) as currency_iso_code,
        opp.is_new_logo,
        opp.is_new_logo_original
    from orders as o
    left join account_masters as m on o.account_id = m.account_id
    left join opportunities as opp on o.opportunity_id = opp.opportunity_id
    left join order_totals as t on o.order_id = t.order_id
)

select * from final
