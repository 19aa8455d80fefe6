-- Renewal opportunities to create in Salesforce (SPEC 4.10): each renewal still without a
-- Renewal opportunity once its end is within the lead time (renewal_lead_time_days before
-- it), as a Data Loader import of Opportunity: exactly the columns AccountId, Name, Type,
-- StageName, CloseDate, Amount. dagster_project/lib/renewals_export.py writes it to CSV.
{%- set lead_time_days = integer_var('renewal_lead_time_days') %}
with renewals as (
    select * from {{ ref('int_renewals_matched') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

-- A customer's contract and subscription ending the same day are one renewal deal: one row
-- per customer and end date, for the larger of their ARRs. Nothing recurring to renew
-- (ARR 0) proposes no deal.
due as (
    select
        r.master_account_id,
        r.end_date,
        max(r.arr) as arr
    from renewals as r
    cross join as_of as ao
    where
        r.renewal_status = 'no renewal opportunity'
        and r.end_date >= ao.as_of_date
        and r.end_date <= cast({{ dbt.dateadd('day', lead_time_days, 'ao.as_of_date') }} as date)
        and r.arr > 0
    group by r.master_account_id, r.end_date
),

final as (
    select
        d.master_account_id as {{ adapter.quote('AccountId') }},
        left(
            coalesce(a.account_name, d.master_account_id) || ' - Renewal '
            || cast(d.end_date as {{ dbt.type_string() }}),
            120
        ) as {{ adapter.quote('Name') }},
        'Renewal' as {{ adapter.quote('Type') }},
        {{ sql_string(var("renewal_stage_name")) }} as {{ adapter.quote('StageName') }},
        d.end_date as {{ adapter.quote('CloseDate') }},
        cast(d.arr as decimal(18, 2)) as {{ adapter.quote('Amount') }}
    from due as d
    left join accounts as a on d.master_account_id = a.account_id
)

select * from final
