with opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

stage_defaults as (
    select * from {{ ref('stage_defaults') }}
),

account_masters as (
    select * from {{ ref('int_accounts_mastered') }}
),

fx_rates as (
    select * from {{ ref('int_fx_opportunity_rates') }}
),

line_items as (
    select * from {{ ref('fct_line_items') }}
),

new_logo_flags as (
    select * from {{ ref('int_opportunities_new_logo') }}
),

-- SPEC 4.5: opportunity MRR = its recurring lines' MRR (non-recurring lines have 0),
-- TCV = all scheduled revenue (one-time lines at their total).
line_totals as (
    select
        opportunity_id,
        sum(mrr) as mrr,
        sum(tcv) as tcv,
        sum(mrr_original) as mrr_original,
        sum(tcv_original) as tcv_original,
        count(*) as line_item_count
    from line_items
    group by opportunity_id
),

final as (
    select
        o.opportunity_id,
        o.account_id,
        coalesce(m.master_account_id, o.account_id)
            as master_account_id,
        o.opportunity_name,
        o.type
            as opportunity_type,
        o.owner_id,
        o.stage_name,
        o.close_date,
        coalesce(o.forecast_category, d.default_forecast_category)
            as forecast_category,
        cast(coalesce(o.probability, d.default_probability) as decimal(9, 4)) as probability,
        o.is_won,
        o.is_closed,
        cast({{ divide_round('o.amount', 'fx.conversion_rate', 2, 4, 8) }} as decimal(18, 2)) as amount,
        fx.currency_iso_code,
        o.created_date,
        o.start_date,
        o.term_months,
        o.use_case,
        coalesce(o.create_potential_subscription, false)
            as create_potential_subscription,
        cast(coalesce(t.mrr, 0) as decimal(18, 2)) as mrr,
        cast(12 * coalesce(t.mrr, 0) as decimal(18, 2)) as arr,
        cast(coalesce(t.tcv, 0) as decimal(18, 2)) as tcv,
        cast(coalesce(t.line_item_count, 0) as integer)
            as line_item_count,
        cast(round(o.amount, 2) as decimal(18, 2))
            as amount_original,
        cast(coalesce(t.mrr_original, 0) as decimal(18, 2)) as mrr_original,
        cast(coalesce(t.tcv_original, 0) as decimal(18, 2)) as tcv_original,
        fx.conversion_rate,
        fx.conversion_rate_source,
        fx.is_fx_rate_missing,
        coalesce(n.is_new_logo, false) as is_new_logo,
        coalesce(n.is_new_logo_original, false)
            as is_new_logo_original,
        n.new_logo_cleared_by_order_id
    from opportunities as o
    left join stage_defaults as d on o.stage_name = d.stage_name
    left join account_masters as m on o.account_id = m.account_id
    left join fx_rates as fx on o.opportunity_id = fx.opportunity_id
    left join line_totals as t on o.opportunity_id = t.opportunity_id
    left join new_logo_flags as n on o.opportunity_id = n.opportunity_id
)

select * from final
