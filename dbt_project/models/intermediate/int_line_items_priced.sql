-- Each opportunity line with its price (SPEC 4.3) and what its schedules start from
-- (SPEC 4.4): net unit price, line total in the opportunity's currency and in corporate
-- currency, the product's charge type and default schedule settings, the schedule start.
with line_items as (
    select * from {{ ref('stg_crm__opportunity_line_items') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

products as (
    select * from {{ ref('stg_crm__products') }}
),

fx_rates as (
    select * from {{ ref('int_fx_opportunity_rates') }}
),

priced as (
    select
        li.line_item_id,
        li.opportunity_id,
        li.product_id,
        p.product_name,
        p.family as product_family,
        nullif(trim(p.charge_type), '') as charge_type,
        li.quantity,
        li.unit_price as unit_price_original,
        coalesce(li.discount_percent, 0) as discount_percent,
        -- Kept unrounded: revenue totals are quantity x this, rounded once to cents.
        cast(
            cast(li.unit_price as decimal(38, 4)) * (1 - coalesce(li.discount_percent, 0) * 0.01)
            as decimal(38, 10)
        ) as net_unit_price_original,
        cast(
            round(
                cast(li.quantity as decimal(38, 4)) * li.unit_price
                * (1 - coalesce(li.discount_percent, 0) * 0.01),
                2
            )
            as decimal(18, 2)
        ) as total_original,
        fx.currency_iso_code,
        fx.conversion_rate,
        fx.is_fx_rate_missing,
        coalesce(li.service_date, o.start_date, o.close_date) as schedule_start_date,
        o.term_months as opportunity_term_months,
        coalesce(p.can_use_quantity_schedule, false)
        and nullif(trim(p.quantity_schedule_type), '') is not null as has_default_quantity_schedule,
        {{ canonical_schedule_type('p.quantity_schedule_type') }} as default_quantity_schedule_type,
        {{ canonical_installment_period('p.quantity_installment_period') }}
            as default_quantity_installment_period,
        p.number_of_quantity_installments as default_quantity_installments,
        coalesce(p.can_use_revenue_schedule, false)
        and nullif(trim(p.revenue_schedule_type), '') is not null as has_default_revenue_schedule,
        {{ canonical_schedule_type('p.revenue_schedule_type') }} as default_revenue_schedule_type,
        {{ canonical_installment_period('p.revenue_installment_period') }}
            as default_revenue_installment_period,
        p.number_of_revenue_installments as default_revenue_installments
    from line_items as li
    inner join opportunities as o on li.opportunity_id = o.opportunity_id
    inner join fx_rates as fx on li.opportunity_id = fx.opportunity_id
    left join products as p on li.product_id = p.product_id
),

final as (
    select
        *,
        cast({{ divide_round('total_original', 'conversion_rate', 2, 2, 8) }} as decimal(18, 2)) as total
    from priced
)

select * from final
