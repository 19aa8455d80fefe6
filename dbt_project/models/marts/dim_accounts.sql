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

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

-- Prior business per SPEC 4.6: a non-cancelled order (dated by its CreatedDate) or a won deal.
business_dates as (
    select m.master_account_id, cast(o.created_date as date) as business_date
    from orders as o
    inner join account_masters as m on o.account_id = m.account_id
    where o.status <> 'Cancelled'
    union all
    select m.master_account_id, o.close_date
    from opportunities as o
    inner join account_masters as m on o.account_id = m.account_id
    where o.is_won
),

first_business as (
    select master_account_id, min(business_date) as first_business_date
    from business_dates
    group by master_account_id
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
            else 'customer'
        end as customer_status
    from members as m
    inner join accounts as a on m.master_account_id = a.account_id
    left join first_business as f on m.master_account_id = f.master_account_id
)

select * from final
