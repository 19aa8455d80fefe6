with opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

stage_defaults as (
    select * from {{ ref('stage_defaults') }}
),

account_masters as (
    select * from {{ ref('int_accounts_mastered') }}
),

final as (
    select
        o.opportunity_id,
        o.account_id,
        coalesce(m.master_account_id, o.account_id) as master_account_id,
        o.opportunity_name,
        o.type as opportunity_type,
        o.owner_id,
        o.stage_name,
        o.close_date,
        coalesce(o.forecast_category, d.default_forecast_category) as forecast_category,
        cast(coalesce(o.probability, d.default_probability) as decimal(9, 4)) as probability,
        o.is_won,
        o.is_closed,
        cast(o.amount as decimal(18, 2)) as amount,
        o.currency_iso_code,
        o.created_date,
        o.start_date,
        o.term_months,
        o.use_case,
        coalesce(o.create_potential_subscription, false) as create_potential_subscription
    from opportunities as o
    left join stage_defaults as d on o.stage_name = d.stage_name
    left join account_masters as m on o.account_id = m.account_id
)

select * from final
