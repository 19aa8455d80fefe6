-- Cohort retention (SPEC 4.13): customers by the month they first had MRR, and per month
-- since then how many still have MRR, their MRR, and both as a share of the cohort's start.
-- A churned customer drops out and counts again in the months it has MRR after reactivating.
with monthly as (
    select * from {{ ref('fct_mrr_monthly') }}
),

months as (
    select distinct month from monthly
),

customer_cohorts as (
    select
        master_account_id,
        min(month) as cohort_month
    from monthly
    where mrr > 0
    group by master_account_id
),

cohort_starts as (
    select
        c.cohort_month,
        count(*) as cohort_customers,
        sum(m.mrr) as cohort_starting_mrr
    from customer_cohorts as c
    inner join monthly as m
        on c.master_account_id = m.master_account_id and c.cohort_month = m.month
    group by c.cohort_month
),

cohort_months as (
    select
        s.cohort_month,
        m.month,
        s.cohort_customers,
        s.cohort_starting_mrr
    from cohort_starts as s
    inner join months as m on s.cohort_month <= m.month
),

activity as (
    select
        c.cohort_month,
        m.month,
        count(*) filter (where m.mrr > 0) as active_customers,
        sum(m.mrr) as mrr
    from customer_cohorts as c
    inner join monthly as m
        on c.master_account_id = m.master_account_id and c.cohort_month <= m.month
    group by c.cohort_month, m.month
),

final as (
    select
        cm.cohort_month,
        cast(
            (extract(year from cm.month) - extract(year from cm.cohort_month)) * 12
            + extract(month from cm.month) - extract(month from cm.cohort_month)
            as integer
        ) as months_since_start,
        cm.month,
        cast(cm.cohort_customers as integer) as cohort_customers,
        cast(coalesce(a.active_customers, 0) as integer) as active_customers,
        cast(cm.cohort_starting_mrr as decimal(18, 2)) as cohort_starting_mrr,
        cast(coalesce(a.mrr, 0) as decimal(18, 2)) as mrr,
        cast(
            {{ divide_round('coalesce(a.active_customers, 0)', 'cm.cohort_customers', 4, 0, 0) }}
            as decimal(9, 4)
        ) as logo_retention,
        cast(
            {{ divide_round('coalesce(a.mrr, 0)', 'cm.cohort_starting_mrr', 4, 2, 2) }}
            as decimal(9, 4)
        ) as revenue_retention
    from cohort_months as cm
    left join activity as a on cm.cohort_month = a.cohort_month and cm.month = a.month
)

select * from final
