-- One row per quote of the current snapshot with its opportunity's new-logo flags (SPEC
-- 4.6: quotes carry their opportunity's flags, current and original). GrandTotal is in the
-- opportunity's currency and converted at its rate (SPEC 4.3).
with quotes as (
    select * from {{ ref('stg_crm__quotes') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

final as (
    select
        q.quote_id,
        q.opportunity_id,
        opp.account_id,
        opp.master_account_id,
        q.status,
        q.is_syncing,
        q.expiration_date,
        q.created_date,
        cast(
            {{ divide_round('q.grand_total', 'coalesce(opp.conversion_rate, 1)', 2, 4, 8) }}
            as decimal(18, 2)
        ) as grand_total,
        cast(round(q.grand_total, 2) as decimal(18, 2)) as grand_total_original,
        coalesce(opp.currency_iso_code, {{ sql_string(var("corporate_currency")) }}) as currency_iso_code,
        opp.is_new_logo,
        opp.is_new_logo_original
    from quotes as q
    left join opportunities as opp on q.opportunity_id = opp.opportunity_id
)

select * from final
