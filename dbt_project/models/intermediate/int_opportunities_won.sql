-- The subscription builder's candidate sources (SPEC 4.8): the won opportunities of the
-- current snapshot with their customer. Every staged opportunity column stays, since the
-- build filter (a setting, applied by the builder asset) may name any of them.
with opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

account_masters as (
    select * from {{ ref('int_accounts_mastered') }}
),

final as (
    select
        o.opportunity_id,
        o.account_id,
        m.master_account_id,
        o.opportunity_name,
        o.stage_name,
        o.close_date,
        o.amount,
        o.probability,
        o.forecast_category,
        o.is_closed,
        o.is_won,
        o.type,
        o.owner_id,
        o.currency_iso_code,
        o.created_date,
        o.create_potential_subscription,
        o.use_case,
        o.start_date,
        o.term_months
    from opportunities as o
    left join account_masters as m on o.account_id = m.account_id
    where o.is_won
)

select * from final
