-- Trailing-twelve-month retention per month M (SPEC 4.13, SaaS Capital's definitions): the
-- cohort is the customers with MRR in M - 12; NRR = their MRR in M / their MRR in M - 12;
-- GRR caps each customer at their M - 12 MRR; logo retention = cohort customers still with
-- MRR in M / cohort size. A customer without a row in M (churned earlier) has MRR 0 there.
with monthly as (
    select * from {{ ref('fct_mrr_monthly') }}
),

months as (
    select distinct month from monthly
),

cohorts as (
    select
        m.month,
        c.master_account_id,
        c.mrr as starting_mrr
    from months as m
    inner join monthly as c
        on c.month = cast({{ dbt.dateadd('month', -12, 'm.month') }} as date)
    where c.mrr > 0
),

retained as (
    select
        c.month,
        c.master_account_id,
        c.starting_mrr,
        coalesce(n.mrr, 0) as mrr
    from cohorts as c
    left join monthly as n
        on c.master_account_id = n.master_account_id and c.month = n.month
),

totals as (
    select
        month,
        count(*) as cohort_customers,
        count(*) filter (where mrr > 0) as retained_customers,
        sum(starting_mrr) as starting_mrr,
        sum(mrr) as retained_mrr,
        sum(least(mrr, starting_mrr)) as gross_retained_mrr
    from retained
    group by month
),

final as (
    select
        month,
        cast({{ dbt.dateadd('month', -12, 'month') }} as date) as cohort_month,
        cast(cohort_customers as integer) as cohort_customers,
        cast(retained_customers as integer) as retained_customers,
        cast(starting_mrr as decimal(18, 2)) as starting_mrr,
        cast(retained_mrr as decimal(18, 2)) as retained_mrr,
        cast(gross_retained_mrr as decimal(18, 2)) as gross_retained_mrr,
        cast({{ divide_round('retained_mrr', 'starting_mrr', 4, 2, 2) }} as decimal(9, 4)) as nrr,
        cast({{ divide_round('gross_retained_mrr', 'starting_mrr', 4, 2, 2) }} as decimal(9, 4))
            as grr,
        cast({{ divide_round('retained_customers', 'cohort_customers', 4, 0, 0) }} as decimal(9, 4))
            as logo_retention
    from totals
)

select * from final
