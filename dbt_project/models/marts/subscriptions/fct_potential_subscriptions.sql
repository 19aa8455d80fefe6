-- ClientSuccess's queue of potential subscriptions (SPEC 4.7): one per closed-won
-- opportunity with Create_Potential_Subscription__c (or per line of it, with the var
-- potential_subscription_grain = 'line_item'). In queue until an Activated order for the
-- opportunity exists; adjusted when that order's items differ from the opportunity's lines.
{%- set grain = var('potential_subscription_grain') %}
{%- if grain not in ['opportunity', 'line_item'] %}
    {{ exceptions.raise_compiler_error(
        "var potential_subscription_grain must be 'opportunity' or 'line_item', not '" ~ grain ~ "'"
    ) }}
{%- endif %}
with opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

line_items as (
    select * from {{ ref('fct_line_items') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

orders as (
    select * from {{ ref('stg_crm__orders') }}
),

order_items as (
    select * from {{ ref('stg_crm__order_items') }}
),

opportunity_snapshots as (
    select * from {{ ref('stg_crm__opportunity_snapshots') }}
),

-- Used at line grain only (var potential_subscription_grain = 'line_item'); defined at
-- either grain so dbt's parse sees the ref whichever grain a build runs with.
line_item_snapshots as (  -- unused at opportunity grain, kept for the parse -- noqa: ST03
    select * from {{ ref('stg_crm__opportunity_line_item_snapshots') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

-- The assigned CSM: the account's CSM__c, else its master account's, else the opportunity owner.
queued_opportunities as (
    select
        o.opportunity_id,
        o.account_id,
        o.master_account_id,
        o.close_date as queued_date,
        o.mrr,
        o.arr,
        coalesce(a.csm_id, ma.csm_id, o.owner_id) as csm_id,
        case
            when a.csm_id is not null then 'account'
            when ma.csm_id is not null then 'master_account'
            when o.owner_id is not null then 'opportunity_owner'
        end as csm_source
    from opportunities as o
    left join accounts as a on o.account_id = a.account_id
    left join accounts as ma on o.master_account_id = ma.account_id
    where o.is_won and o.create_potential_subscription
),

-- The order that activates it: the opportunity's first Activated order (by ActivatedDate).
activated_orders as (
    select
        opportunity_id,
        order_id,
        cast(coalesce(activated_date, created_date) as date) as activated_date,
        row_number() over (
            partition by opportunity_id
            order by coalesce(activated_date, created_date), order_id
        ) as activation_rank
    from orders
    where lower(trim(status)) = 'activated' and opportunity_id is not null
),

activations as (
    select
        opportunity_id,
        order_id,
        activated_date
    from activated_orders
    where activation_rank = 1
),

-- The CSM's adjustments: the opportunity's lines and the activating order's items are
-- paired on (product, quantity, net unit price to the cent; OrderItem.UnitPrice is the
-- line's net price in the opportunity's currency), repeated equal keys pairing in turn.
-- A line without an equal item, or an item without an equal line, is an adjustment.
line_keys as (
    select
        li.opportunity_id,
        li.line_item_id,
        li.product_id,
        li.quantity,
        round(li.net_unit_price_original, 2) as unit_price,
        row_number() over (
            partition by li.opportunity_id, li.product_id, li.quantity, round(li.net_unit_price_original, 2)
            order by li.line_item_id
        ) as occurrence
    from line_items as li
    inner join activations as a on li.opportunity_id = a.opportunity_id
),

order_item_keys as (
    select
        a.opportunity_id,
        oi.order_item_id,
        oi.product_id,
        oi.quantity,
        round(oi.unit_price, 2) as unit_price,
        row_number() over (
            partition by a.opportunity_id, oi.product_id, oi.quantity, round(oi.unit_price, 2)
            order by oi.order_item_id
        ) as occurrence
    from order_items as oi
    inner join activations as a on oi.order_id = a.order_id
),

paired as (
    select
        coalesce(l.opportunity_id, i.opportunity_id) as opportunity_id,
        l.line_item_id,
        i.order_item_id
    from line_keys as l
    full outer join order_item_keys as i
        on
            l.opportunity_id = i.opportunity_id
            and l.product_id = i.product_id
            and l.quantity = i.quantity
            and l.unit_price = i.unit_price
            and l.occurrence = i.occurrence
),

-- The previous snapshot (the one before the current snapshot) and what was queued then.
snapshot_dates as (
    select max(snapshot_date) as current_snapshot_date
    from opportunity_snapshots
),

previous_snapshot as (
    select max(s.snapshot_date) as previous_snapshot_date
    from opportunity_snapshots as s
    cross join snapshot_dates as d
    where s.snapshot_date < d.current_snapshot_date
),

previous_queued_opportunities as (
    select s.opportunity_id
    from opportunity_snapshots as s
    inner join previous_snapshot as p on s.snapshot_date = p.previous_snapshot_date
    where s.is_won and s.create_potential_subscription
),

{% if grain == 'line_item' %}
potential_subscriptions as (
    select
        li.line_item_id as potential_subscription_id,
        q.opportunity_id,
        li.line_item_id,
        li.product_id,
        q.account_id,
        q.master_account_id,
        q.queued_date,
        li.mrr,
        li.arr,
        q.csm_id,
        q.csm_source
    from queued_opportunities as q
    inner join line_items as li on q.opportunity_id = li.opportunity_id
),

-- A line is adjusted when the activating order has no item equal to it.
adjusted as (
    select distinct line_item_id as potential_subscription_id
    from paired
    where line_item_id is not null and order_item_id is null
),

previously_queued as (
    select l.line_item_id as potential_subscription_id
    from line_item_snapshots as l
    inner join previous_snapshot as p on l.snapshot_date = p.previous_snapshot_date
    inner join previous_queued_opportunities as q on l.opportunity_id = q.opportunity_id
),
{% else %}
    potential_subscriptions as (
        select
            opportunity_id as potential_subscription_id,
            opportunity_id,
            cast(null as {{ dbt.type_string() }}) as line_item_id,
            cast(null as {{ dbt.type_string() }}) as product_id,
            account_id,
            master_account_id,
            queued_date,
            mrr,
            arr,
            csm_id,
            csm_source
        from queued_opportunities
    ),

    adjusted as (
        select distinct opportunity_id as potential_subscription_id
        from paired
        where line_item_id is null or order_item_id is null
    ),

    previously_queued as (
        select opportunity_id as potential_subscription_id
        from previous_queued_opportunities
    ),
{% endif %}

final as (
    select
        ps.potential_subscription_id,
        {{ sql_string(grain) }} as grain,
        ps.opportunity_id,
        ps.line_item_id,
        ps.product_id,
        ps.account_id,
        ps.master_account_id,
        case when a.order_id is not null then 'activated' else 'in_queue' end as status,
        ps.queued_date,
        a.activated_date,
        a.order_id as activation_order_id,
        cast(
            greatest(
                {{ dbt.datediff('ps.queued_date', 'coalesce(a.activated_date, ao.as_of_date)', 'day') }},
                0
            )
            as integer
        ) as days_in_queue,
        a.order_id is not null and adj.potential_subscription_id is not null as is_adjusted,
        ps.csm_id,
        ps.csm_source,
        cast(ps.mrr as decimal(18, 2)) as mrr,
        cast(ps.arr as decimal(18, 2)) as arr,
        p.previous_snapshot_date is null or pq.potential_subscription_id is null
            as is_new_since_previous_snapshot
    from potential_subscriptions as ps
    cross join as_of as ao
    cross join previous_snapshot as p
    left join activations as a on ps.opportunity_id = a.opportunity_id
    left join adjusted as adj on ps.potential_subscription_id = adj.potential_subscription_id
    left join previously_queued as pq on ps.potential_subscription_id = pq.potential_subscription_id
)

select * from final
