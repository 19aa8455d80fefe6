-- The MRR bridge per customer, month and product (SPEC 4.13): each customer's MRR change
-- split into new_product, removed_product, quantity and price so that the parts sum to
-- fct_mrr_monthly's mrr_change exactly. Measured on the days of the mrr_convention setting
-- (the month's first day, or its last day), as fct_mrr_monthly's mrr is.
{%- set convention = var('mrr_convention') %}
{%- if convention not in ['opening', 'closing'] %}
    {{ exceptions.raise_compiler_error(
        "var mrr_convention must be 'opening' or 'closing', not '" ~ (convention | string)[:60] ~ "'"
    ) }}
{%- endif %}
with monthly as (
    select * from {{ ref('fct_mrr_monthly') }}
),

items as (
    select * from {{ ref('int_subscription_items_currency') }}
),

-- Each customer-month with the day its MRR is measured and the previous month's.
customer_months as (
    select
        master_account_id,
        month,
        case
            when {{ sql_string(convention) }} = 'closing'
                then cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'month')) }} as date)
            else month
        end as measured_day,
        case
            when {{ sql_string(convention) }} = 'closing'
                then cast({{ dbt.dateadd('day', -1, 'month') }} as date)
            else cast({{ dbt.dateadd('month', -1, 'month') }} as date)
        end as previous_measured_day
    from monthly
),

current_products as (
    select
        c.master_account_id,
        c.month,
        i.product_id,
        sum(i.mrr) as mrr,
        sum(i.quantity) as product_quantity
    from customer_months as c
    inner join items as i
        on
            c.master_account_id = i.master_account_id
            and {{ is_active_on('i', 'c.measured_day') }}
    group by c.master_account_id, c.month, i.product_id
),

previous_products as (
    select
        c.master_account_id,
        c.month,
        i.product_id,
        sum(i.mrr) as mrr,
        sum(i.quantity) as product_quantity
    from customer_months as c
    inner join items as i
        on
            c.master_account_id = i.master_account_id
            and {{ is_active_on('i', 'c.previous_measured_day') }}
    group by c.master_account_id, c.month, i.product_id
),

compared as (
    select
        coalesce(n.master_account_id, p.master_account_id) as master_account_id,
        coalesce(n.month, p.month) as month,
        coalesce(n.product_id, p.product_id) as product_id,
        coalesce(p.mrr, 0) as previous_mrr,
        coalesce(n.mrr, 0) as mrr,
        coalesce(p.product_quantity, 0) as previous_quantity,
        coalesce(n.product_quantity, 0) as current_quantity
    from current_products as n
    full outer join previous_products as p
        on
            n.master_account_id = p.master_account_id
            and n.month = p.month
            and n.product_id = p.product_id
),

-- A product with MRR in both months: quantity = (q1 - q0) x previous MRR per unit, rounded
-- to cents; price = the rest of the change, which is (MRR per unit now - before) x q1 up
-- to that rounding, so the parts always sum to the change exactly.
split as (
    select
        *,
        case when previous_mrr = 0 and mrr != 0 then mrr else 0 end as new_product,
        case when mrr = 0 and previous_mrr != 0 then -previous_mrr else 0 end as removed_product,
        case
            when previous_mrr != 0 and mrr != 0 and previous_quantity != 0
                then {{ divide_round(
                    '(current_quantity - previous_quantity) * previous_mrr',
                    'previous_quantity', 2, 6, 4
                ) }}
            else 0
        end as quantity_effect
    from compared
    where
        previous_mrr != mrr
        or (previous_quantity != current_quantity and (previous_mrr != 0 or mrr != 0))
),

final as (
    select
        master_account_id,
        month,
        product_id,
        cast(previous_mrr as decimal(18, 2)) as previous_mrr,
        cast(mrr as decimal(18, 2)) as mrr,
        cast(previous_quantity as decimal(18, 4)) as previous_quantity,
        cast(current_quantity as decimal(18, 4)) as current_quantity,
        cast(new_product as decimal(18, 2)) as new_product,
        cast(removed_product as decimal(18, 2)) as removed_product,
        cast(quantity_effect as decimal(18, 2)) as quantity,
        cast(
            case
                when previous_mrr != 0 and mrr != 0 then mrr - previous_mrr - quantity_effect
                else 0
            end
            as decimal(18, 2)
        ) as price,
        cast(mrr - previous_mrr as decimal(18, 2)) as mrr_change
    from split
)

select * from final
