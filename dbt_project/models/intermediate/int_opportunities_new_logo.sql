-- New-logo flags of every opportunity (SPEC 4.6, Nextian's rules), per master account so
-- duplicate accounts share their history.
-- Prior business = non-cancelled orders (dated by CreatedDate) and subscription items
-- (dated by start date); a cancelled order counts as nothing. The opportunity's own orders
-- and items are never its prior business.
{%- set lookback_months = integer_var('new_logo_lookback_months', nullable=true) %}
with opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

account_masters as (
    select * from {{ ref('int_accounts_mastered') }}
),

orders as (
    select * from {{ ref('stg_crm__orders') }}
),

subscription_items as (
    select * from {{ ref('stg_subscription_build__items') }}
),

subscriptions as (
    select * from {{ ref('stg_subscription_build__subscriptions') }}
),

opportunity_customers as (
    select
        o.opportunity_id,
        coalesce(m.master_account_id, o.account_id) as master_account_id,
        o.created_date as created_at
    from opportunities as o
    left join account_masters as m on o.account_id = m.account_id
),

live_orders as (
    select
        o.order_id,
        o.opportunity_id,
        coalesce(m.master_account_id, o.account_id) as master_account_id,
        o.created_date as created_at,
        -- When the order's business ended, for the lookback: its EndDate, else (no term on
        -- the order) its EffectiveDate, else the day it was created. Ongoing service is
        -- carried by the subscription items, which count on their own.
        coalesce(o.end_date, o.effective_date, cast(o.created_date as date)) as ended_on
    from orders as o
    left join account_masters as m on o.account_id = m.account_id
    where not {{ is_cancelled_order_status('o.status') }}
),

business as (
    select
        master_account_id,
        opportunity_id as source_opportunity_id,
        'order' as business_type,
        order_id as business_id,
        created_at as started_at,
        ended_on
    from live_orders

    union all

    -- An item is business from its start day on; open-ended items never end.
    select
        s.master_account_id,
        i.source_opportunity_id,
        'subscription_item' as business_type,
        i.subscription_item_id as business_id,
        cast(cast(i.start_date as date) as timestamp) as started_at,
        cast(i.end_date as date) as ended_on
    from subscription_items as i
    inner join subscriptions as s on i.subscription_id = s.subscription_id
),

prior_business as (
    select
        c.opportunity_id,
        count(*) as prior_business_count,
        min(b.started_at) as first_prior_business_at
    from opportunity_customers as c
    inner join business as b
        on
            c.master_account_id = b.master_account_id
            and (b.source_opportunity_id is null or c.opportunity_id <> b.source_opportunity_id)
            -- an order created before the opportunity; an item started by its creation day
            and (
                (b.business_type = 'order' and c.created_at > b.started_at)
                or (
                    b.business_type = 'subscription_item'
                    and cast(b.started_at as date) <= cast(c.created_at as date)
                )
            )
    {%- if lookback_months is not none %}
        -- lookback: business that ended more than {{ lookback_months }} months before does not count
        and (
            b.ended_on is null
            or b.ended_on >= cast({{ dbt.dateadd('month', -1 * lookback_months, 'cast(c.created_at as date)') }} as date)
        )
        {%- endif %}
    group by c.opportunity_id
),

-- The first non-cancelled order of the customer created at or after the opportunity: when
-- it is for another opportunity, the flag is cleared (Nextian: "when the first order is
-- created, all other opportunities have the flag cleared"). Earlier orders either made the
-- opportunity not new (no lookback) or fell outside the lookback.
orders_after_creation as (
    select
        c.opportunity_id,
        o.order_id,
        o.opportunity_id as order_opportunity_id,
        o.created_at as order_created_at,
        row_number() over (
            partition by c.opportunity_id order by o.created_at, o.order_id
        ) as order_rank
    from opportunity_customers as c
    inner join live_orders as o
        on
            c.master_account_id = o.master_account_id
            and c.created_at <= o.created_at
),

first_orders as (
    select
        opportunity_id,
        order_id,
        order_opportunity_id,
        order_created_at
    from orders_after_creation
    where order_rank = 1
),

flagged as (
    select
        c.opportunity_id,
        c.master_account_id,
        c.created_at,
        p.opportunity_id is null as is_new_logo_original,
        cast(coalesce(p.prior_business_count, 0) as integer) as prior_business_count,
        p.first_prior_business_at,
        case
            when
                f.order_id is not null
                and (f.order_opportunity_id is null or f.order_opportunity_id <> c.opportunity_id)
                then f.order_id
        end as clearing_order_id,
        case
            when
                f.order_id is not null
                and (f.order_opportunity_id is null or f.order_opportunity_id <> c.opportunity_id)
                then f.order_created_at
        end as clearing_order_created_at
    from opportunity_customers as c
    left join prior_business as p on c.opportunity_id = p.opportunity_id
    left join first_orders as f on c.opportunity_id = f.opportunity_id
),

final as (
    select
        opportunity_id,
        master_account_id,
        created_at,
        is_new_logo_original,
        is_new_logo_original and clearing_order_id is null as is_new_logo,
        prior_business_count,
        first_prior_business_at,
        case when is_new_logo_original then clearing_order_id end as new_logo_cleared_by_order_id,
        case when is_new_logo_original then clearing_order_created_at end as new_logo_cleared_at
    from flagged
)

select * from final
