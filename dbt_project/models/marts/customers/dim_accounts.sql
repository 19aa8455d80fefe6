-- One row per customer (master account, SPEC 4.2) with its first business date.
with account_masters as (
    select * from {{ ref('int_accounts_mastered') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

orders as (
    select * from {{ ref('stg_crm__orders') }}
),

subscription_items as (
    select * from {{ ref('fct_subscription_items') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

-- Business per SPEC 4.6 (the same records that end a new logo): non-cancelled orders, dated
-- by CreatedDate, and subscription items, dated by their start date.
business_dates as (
    select
        coalesce(m.master_account_id, o.account_id) as master_account_id,
        cast(o.created_date as date) as business_date
    from orders as o
    left join account_masters as m on o.account_id = m.account_id
    where not {{ is_cancelled_order_status('o.status') }}

    union all

    select
        master_account_id,
        start_date as business_date
    from subscription_items
),

first_business as (
    select
        master_account_id,
        min(business_date) as first_business_date
    from business_dates
    group by master_account_id
),

-- Churned: every subscription item of the customer ended before the as-of date.
item_coverage as (
    select
        i.master_account_id,
        bool_or(i.end_date is null or i.end_date >= ao.as_of_date) as has_current_or_future_item
    from subscription_items as i
    cross join as_of as ao
    group by i.master_account_id
),

members as (
    select
        master_account_id,
        count(*) as account_count
    from account_masters
    group by master_account_id
),

final as (
    select
        m.master_account_id,
        a.account_name,
        {{ normalized_domain('a.website') }} as website_domain,
        a.billing_country,
        a.owner_id,
        a.csm_id,
        cast(a.created_date as date) as created_date,
        cast(m.account_count as integer) as account_count,
        f.first_business_date,
        case
            when f.first_business_date is null then 'prospect'
            when not c.has_current_or_future_item then 'churned'
            else 'customer'
        end as customer_status
    from members as m
    inner join accounts as a on m.master_account_id = a.account_id
    left join first_business as f on m.master_account_id = f.master_account_id
    left join item_coverage as c on m.master_account_id = c.master_account_id
)

select * from final
