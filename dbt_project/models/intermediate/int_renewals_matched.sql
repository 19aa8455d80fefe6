-- Every renewal ahead or just behind us (SPEC 4.10): each active contract (status
-- Activated) and each active subscription (status Active) with a known end, its ARR up for
-- renewal, the Renewal opportunity matched to it and its renewal status. Not limited to a
-- horizon: fct_renewal_pipeline, renewal_opportunities_to_create and the MRR forecast
-- each take the window they need.
{%- set match_window_days = integer_var('renewal_match_window_days') %}
with contracts as (
    select * from {{ ref('fct_contracts') }}
),

subscriptions as (
    select * from {{ ref('fct_subscriptions') }}
),

subscription_items as (
    select * from {{ ref('fct_subscription_items') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

contract_renewals as (
    select
        'contract' as source_type,
        contract_id as source_id,
        master_account_id,
        account_id,
        end_date,
        notice_date,
        arr_up_for_renewal as arr,
        cast(null as {{ dbt.type_string() }}) as source_opportunity_id
    from contracts
    where status = 'Activated' and end_date is not null
),

-- A subscription's ARR up for renewal: its items active on its end date.
subscription_arr as (
    select
        s.subscription_id,
        sum(i.arr) as arr
    from subscriptions as s
    inner join subscription_items as i
        on
            s.subscription_id = i.subscription_id
            and {{ is_active_on('i', 's.end_date') }}
    group by s.subscription_id
),

subscription_renewals as (
    select
        'subscription' as source_type,
        s.subscription_id as source_id,
        s.master_account_id,
        s.master_account_id as account_id,
        s.end_date,
        cast(null as date) as notice_date,
        cast(coalesce(a.arr, 0) as decimal(18, 2)) as arr,
        s.source_opportunity_id
    from subscriptions as s
    left join subscription_arr as a on s.subscription_id = a.subscription_id
    where s.status = 'Active' and s.end_date is not null
),

renewals as (
    select * from contract_renewals
    union all
    select * from subscription_renewals
),

renewal_opportunities as (
    select
        opportunity_id,
        master_account_id,
        stage_name,
        close_date,
        is_won,
        is_closed
    from opportunities
    where lower(trim(opportunity_type)) = 'renewal'
),

-- Renewal opportunities of the customer closing within the match window either side of
-- the end (never the subscription's own source deal). Precedence: a won one, else an open
-- one, else a lost one; within each the nearest close date, then the earlier, then the Id.
candidates as (
    select
        r.source_type,
        r.source_id,
        o.opportunity_id,
        o.stage_name,
        o.close_date,
        o.is_won,
        o.is_closed,
        row_number() over (
            partition by r.source_type, r.source_id
            order by
                case when o.is_won then 0 when not o.is_closed then 1 else 2 end,
                abs({{ dbt.datediff('r.end_date', 'o.close_date', 'day') }}),
                o.close_date,
                o.opportunity_id
        ) as match_rank,
        count(*) over (partition by r.source_type, r.source_id) as matching_opportunity_count
    from renewals as r
    inner join renewal_opportunities as o
        on
            r.master_account_id = o.master_account_id
            and o.close_date >= cast({{ dbt.dateadd('day', -match_window_days, 'r.end_date') }} as date)
            and o.close_date <= cast({{ dbt.dateadd('day', match_window_days, 'r.end_date') }} as date)
            and (r.source_opportunity_id is null or r.source_opportunity_id <> o.opportunity_id)
),

matches as (
    select * from candidates
    where match_rank = 1
),

final as (
    select
        r.source_type || ':' || r.source_id as renewal_id,
        r.source_type,
        r.source_id,
        r.master_account_id,
        r.account_id,
        r.end_date,
        r.notice_date,
        {{ days_between('ao.as_of_date', 'r.end_date') }} as days_to_end,
        {{ quarter_label('r.end_date') }} as end_quarter,
        cast({{ quarter_index('r.end_date') }} - {{ quarter_index('ao.as_of_date') }} as integer)
            as quarters_from_as_of,
        cast(r.arr as decimal(18, 2)) as arr,
        m.opportunity_id as renewal_opportunity_id,
        m.stage_name as renewal_opportunity_stage,
        m.close_date as renewal_opportunity_close_date,
        cast(coalesce(m.matching_opportunity_count, 0) as integer) as matching_opportunity_count,
        -- Precedence: renewed > in progress > churned > no renewal opportunity. An open
        -- renewal past the end stays in progress (a late renewal is still being worked).
        case
            when m.is_won then 'renewed'
            when not m.is_closed then 'in progress'
            when m.opportunity_id is not null then 'churned'
            when r.end_date < ao.as_of_date then 'churned'
            else 'no renewal opportunity'
        end as renewal_status
    from renewals as r
    cross join as_of as ao
    left join matches as m on r.source_type = m.source_type and r.source_id = m.source_id
)

select * from final
