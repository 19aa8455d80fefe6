-- The lines of the subscription builder's candidate sources (SPEC 4.8): each won
-- opportunity's lines, priced as fct_line_items has them, with what the builder needs
-- beyond the price (order number, service date, whether an upgrade may clone the item).
with won_opportunities as (
    select * from {{ ref('int_opportunities_won') }}
),

priced_lines as (
    select * from {{ ref('fct_line_items') }}
),

crm_lines as (
    select * from {{ ref('stg_crm__opportunity_line_items') }}
),

products as (
    select * from {{ ref('stg_crm__products') }}
),

final as (
    select
        l.line_item_id,
        l.opportunity_id,
        l.product_id,
        s.order_no,
        l.quantity,
        l.net_unit_price,
        l.mrr,
        l.is_recurring,
        cast(l.term_months as double) as term_months,
        s.service_date,
        -- Exclude_From_Upgrade__c on the line, else on the product (SPEC 4.8).
        coalesce(s.is_excluded_from_upgrade, p.is_excluded_from_upgrade, false)
            as is_excluded_from_upgrade
    from priced_lines as l
    inner join won_opportunities as w on l.opportunity_id = w.opportunity_id
    inner join crm_lines as s on l.line_item_id = s.line_item_id
    left join products as p on l.product_id = p.product_id
)

select * from final
