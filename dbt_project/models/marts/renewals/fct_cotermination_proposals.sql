-- Co-termination proposals (SPEC 4.10): for a customer with several active subscriptions
-- (or several active contracts), align them on a common end date, the latest of their
-- ends, and price each one's extension: its MRR x the calendar months from the day after
-- its end to the day after the common end.
with contracts as (
    select * from {{ ref('fct_contracts') }}
),

subscriptions as (
    select * from {{ ref('fct_subscriptions') }}
),

subscription_items as (
    select * from {{ ref('fct_subscription_items') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

-- The MRR that runs to a subscription's end: its items active on its end date.
subscription_mrr as (
    select
        s.subscription_id,
        sum(i.mrr) as mrr
    from subscriptions as s
    inner join subscription_items as i
        on
            s.subscription_id = i.subscription_id
            and {{ is_active_on('i', 's.end_date') }}
    group by s.subscription_id
),

-- Active = Activated contracts and Active subscriptions with a known end not yet passed.
members as (
    select
        'contract' as source_type,
        c.contract_id as source_id,
        c.master_account_id,
        c.end_date,
        -- the contract's own items (contract_arr), not the customer's other contracts
        cast(c.contract_arr as decimal(38, 2)) / 12 as mrr
    from contracts as c
    cross join as_of as ao
    where c.status = 'Activated' and c.end_date >= ao.as_of_date

    union all

    select
        'subscription' as source_type,
        s.subscription_id as source_id,
        s.master_account_id,
        s.end_date,
        cast(coalesce(m.mrr, 0) as decimal(38, 2)) as mrr
    from subscriptions as s
    cross join as_of as ao
    left join subscription_mrr as m on s.subscription_id = m.subscription_id
    where s.status = 'Active' and s.end_date is not null and s.end_date >= ao.as_of_date
),

grouped as (
    select
        *,
        max(end_date) over (partition by master_account_id, source_type) as common_end_date,
        count(*) over (partition by master_account_id, source_type) as items_in_proposal
    from members
),

-- The extension runs from the day after the member's end to the day after the common end.
spans as (
    select
        *,
        cast({{ dbt.dateadd('day', 1, 'end_date') }} as date) as extension_start,
        cast({{ dbt.dateadd('day', 1, 'common_end_date') }} as date) as extension_stop
    from grouped
    where items_in_proposal > 1
),

-- Whole calendar months: the month difference, one less when stepping that far overshoots
-- (Jan 15 -> Mar 1 is 1 whole month: Mar 15 is past Mar 1).
whole_months as (
    select
        *,
        {{ dbt.datediff('extension_start', 'extension_stop', 'month') }}
        - case
            when cast(
                {{ dbt.dateadd(
                    'month',
                    dbt.datediff('extension_start', 'extension_stop', 'month'),
                    'extension_start'
                ) }}
                as date
            ) > extension_stop then 1
            else 0
        end as whole_months
    from spans
),

anchored as (
    select
        *,
        cast({{ dbt.dateadd('month', 'whole_months', 'extension_start') }} as date) as month_anchor,
        cast({{ dbt.dateadd('month', 'whole_months + 1', 'extension_start') }} as date) as next_month_anchor
    from whole_months
),

-- The days left after the whole months, as a fraction of the month that follows them.
extended as (
    select
        *,
        cast(whole_months as double)
        + cast({{ days_between('month_anchor', 'extension_stop') }} as double)
        / cast({{ days_between('month_anchor', 'next_month_anchor') }} as double)
            as extension_months
    from anchored
),

final as (
    select
        source_type || ':' || source_id as cotermination_item_id,
        master_account_id,
        source_type,
        source_id,
        end_date,
        common_end_date,
        {{ days_between('end_date', 'common_end_date') }} as extension_days,
        cast(round(extension_months, 4) as decimal(18, 4)) as extension_months,
        cast(round(mrr, 2) as decimal(18, 2)) as mrr,
        cast(round(mrr * cast(extension_months as decimal(38, 10)), 2) as decimal(18, 2))
            as prorated_amount,
        cast(items_in_proposal as integer) as items_in_proposal
    from extended
)

select * from final
