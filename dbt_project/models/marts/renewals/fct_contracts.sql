-- One row per contract of the current snapshot with its end, notice date and the ARR up for
-- renewal (SPEC 4.10).
with contracts as (
    select * from {{ ref('stg_crm__contracts') }}
),

account_masters as (
    select * from {{ ref('int_accounts_mastered') }}
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

-- End = EndDate, else StartDate + ContractTerm months - 1 day (Salesforce's rule; month
-- steps clamp to the month's end, see macros/calendar.sql).
ended as (
    select
        c.contract_id,
        c.contract_number,
        c.account_id,
        coalesce(m.master_account_id, c.account_id) as master_account_id,
        c.status,
        c.start_date,
        c.contract_term,
        coalesce(c.end_date, {{ contract_end_date('c.start_date', 'c.contract_term') }}) as end_date,
        case
            when c.end_date is not null then 'EndDate'
            when c.start_date is not null and c.contract_term is not null then 'StartDate + ContractTerm'
        end as end_date_source,
        c.owner_expiration_notice_days,
        cast(c.activated_date as date) as activated_date
    from contracts as c
    left join account_masters as m on c.account_id = m.account_id
),

-- ARR up for renewal: the customer's subscription items active on the contract's end date.
account_arr as (
    select
        e.contract_id,
        sum(i.arr) as arr
    from ended as e
    inner join subscription_items as i
        on
            e.master_account_id = i.master_account_id
            and {{ is_active_on('i', 'e.end_date') }}
    group by e.contract_id
),

-- The contract's own share: items sold on the opportunities of its (non-cancelled) orders.
contract_opportunities as (
    select distinct
        contract_id,
        opportunity_id
    from orders
    where
        contract_id is not null
        and opportunity_id is not null
        and not {{ is_cancelled_order_status('status') }}
),

contract_arr as (
    select
        e.contract_id,
        sum(i.arr) as arr
    from ended as e
    inner join contract_opportunities as co on e.contract_id = co.contract_id
    inner join subscription_items as i
        on
            co.opportunity_id = i.source_opportunity_id
            and {{ is_active_on('i', 'e.end_date') }}
    group by e.contract_id
),

final as (
    select
        e.contract_id,
        e.contract_number,
        e.account_id,
        e.master_account_id,
        e.status,
        e.start_date,
        e.contract_term,
        e.end_date,
        e.end_date_source,
        e.owner_expiration_notice_days,
        cast(
            {{ dbt.dateadd('day', '-1 * e.owner_expiration_notice_days', 'e.end_date') }}
            as date
        ) as notice_date,
        e.activated_date,
        {{ days_between('ao.as_of_date', 'e.end_date') }} as days_to_end,
        {{ quarter_label('e.end_date') }} as end_quarter,
        cast({{ quarter_index('e.end_date') }} - {{ quarter_index('ao.as_of_date') }} as integer)
            as quarters_from_as_of,
        cast(coalesce(aa.arr, 0) as decimal(18, 2)) as arr_up_for_renewal,
        cast(coalesce(ca.arr, 0) as decimal(18, 2)) as contract_arr
    from ended as e
    cross join as_of as ao
    left join account_arr as aa on e.contract_id = aa.contract_id
    left join contract_arr as ca on e.contract_id = ca.contract_id
)

select * from final
