-- One row per opportunity line with its price, schedule totals, term, MRR and TCV in
-- corporate currency (SPEC 4.3-4.5).
with line_items as (
    select * from {{ ref('int_line_items_priced') }}
),

plans as (
    select * from {{ ref('int_schedules_planned') }}
),

classified as (
    select
        li.line_item_id,
        li.opportunity_id,
        li.product_id,
        li.product_name,
        li.product_family,
        li.charge_type,
        li.quantity,
        li.unit_price_original,
        li.discount_percent,
        li.net_unit_price_original,
        li.total_original,
        li.total,
        li.currency_iso_code,
        li.conversion_rate,
        li.is_fx_rate_missing,
        li.schedule_start_date,
        li.opportunity_term_months,
        p.quantity_schedule_source,
        p.revenue_schedule_source,
        p.revenue_installments,
        p.revenue_installment_period,
        p.revenue_term_months_numerator,
        p.revenue_term_months_denominator,
        p.scheduled_quantity,
        p.revenue_base,
        p.revenue_base_original,
        p.scheduled_revenue,
        p.scheduled_revenue_original,
        p.has_schedule_error,
        p.revenue_schedule_source is not null as has_revenue_schedule,
        case
            when lower(li.charge_type) = 'recurring' then true
            when li.charge_type is null then p.revenue_schedule_source is not null
            else false
        end as is_recurring
    from line_items as li
    inner join plans as p on li.line_item_id = p.line_item_id
),

-- Term: revenue installments x months per period; without a revenue schedule a
-- recurring line runs the opportunity's Term_Months__c, else 12 months.
termed as (
    select
        *,
        case
            when has_schedule_error then null
            when has_revenue_schedule then revenue_term_months_numerator
            when is_recurring then coalesce(nullif(opportunity_term_months, 0), 12)
        end as term_months_numerator,
        case
            when has_schedule_error then null
            when has_revenue_schedule then revenue_term_months_denominator
            when is_recurring then 1
        end as term_months_denominator,
        case
            when has_schedule_error then 0
            when has_revenue_schedule then scheduled_revenue
            else revenue_base
        end as contract_value,
        case
            when has_schedule_error then 0
            when has_revenue_schedule then scheduled_revenue_original
            else revenue_base_original
        end as contract_value_original
    from classified
),

-- MRR = contract value / term months, divided exactly as contract value x denominator /
-- numerator of the term fraction.
measured as (
    select
        *,
        case
            when has_schedule_error or not is_recurring then 0
            else {{ divide_round(
                'cast(contract_value as decimal(38, 2)) * term_months_denominator',
                'term_months_numerator'
            ) }}
        end as mrr,
        case
            when has_schedule_error or not is_recurring then 0
            else {{ divide_round(
                'cast(contract_value_original as decimal(38, 2)) * term_months_denominator',
                'term_months_numerator'
            ) }}
        end as mrr_original
    from termed
),

final as (
    select
        line_item_id,
        opportunity_id,
        product_id,
        product_name,
        product_family,
        charge_type,
        is_recurring,
        quantity,
        cast(round(unit_price_original / conversion_rate, 4) as decimal(18, 4)) as unit_price,
        cast(discount_percent as decimal(9, 4)) as discount_percent,
        cast(round(net_unit_price_original / conversion_rate, 4) as decimal(18, 4))
            as net_unit_price,
        total,
        schedule_start_date,
        quantity_schedule_source,
        revenue_schedule_source,
        scheduled_quantity,
        revenue_installments,
        revenue_installment_period,
        cast(
            {{ divide_round('term_months_numerator', 'term_months_denominator', 6, 0, 0) }}
            as decimal(18, 6)
        ) as term_months,
        cast(mrr as decimal(18, 2)) as mrr,
        cast(12 * cast(mrr as decimal(38, 2)) as decimal(18, 2)) as arr,
        cast(contract_value as decimal(18, 2)) as tcv,
        has_schedule_error,
        currency_iso_code,
        conversion_rate,
        is_fx_rate_missing,
        cast(unit_price_original as decimal(18, 4)) as unit_price_original,
        cast(round(net_unit_price_original, 4) as decimal(18, 4)) as net_unit_price_original,
        total_original,
        cast(mrr_original as decimal(18, 2)) as mrr_original,
        cast(12 * cast(mrr_original as decimal(38, 2)) as decimal(18, 2)) as arr_original,
        cast(contract_value_original as decimal(18, 2)) as tcv_original
    from measured
)

select * from final
