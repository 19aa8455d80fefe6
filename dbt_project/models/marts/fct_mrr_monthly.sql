-- MRR per customer and month with its movement (SPEC 4.9). An item counts in a month when
-- it is active on the month's first day (start <= day <= end), the dbt MRR playbook's
-- convention: starting Jan 15 first counts in February; ending Jan 14 last counts in January.
with items as (
    select * from {{ ref('fct_subscription_items') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

month_spine as (
    select cast(month as date) as month
    from range(
        (select date_trunc('month', min(start_date)) from items),
        (select date_trunc('month', as_of_date) + interval 1 month from as_of),
        interval 1 month
    ) as spine (month)
),

mrr_by_month as (
    select
        i.master_account_id,
        s.month,
        sum(i.mrr) as mrr
    from items as i
    inner join month_spine as s
        on
            i.start_date <= s.month
            and (i.end_date is null or i.end_date >= s.month)
    group by i.master_account_id, s.month
),

first_months as (
    select
        master_account_id,
        min(month) as first_month
    from mrr_by_month
    where mrr > 0
    group by master_account_id
),

-- Every month from the customer's first month with MRR to the as-of month, zeros included,
-- so the previous month of a reactivation is the zero it comes back from.
account_months as (
    select
        f.master_account_id,
        s.month,
        coalesce(m.mrr, 0) as mrr
    from first_months as f
    inner join month_spine as s on f.first_month <= s.month
    left join mrr_by_month as m
        on f.master_account_id = m.master_account_id and s.month = m.month
),

with_previous as (
    select
        master_account_id,
        month,
        mrr,
        lag(mrr) over (partition by master_account_id order by month) as previous_mrr
    from account_months
),

classified as (
    select
        master_account_id,
        month,
        mrr,
        coalesce(previous_mrr, 0) as previous_mrr,
        case
            when previous_mrr is null then 'new'
            when previous_mrr = 0 and mrr > 0 then 'reactivation'
            when previous_mrr > 0 and mrr = 0 then 'churn'
            when mrr > previous_mrr then 'expansion'
            when mrr < previous_mrr then 'contraction'
            else 'unchanged'
        end as movement
    from with_previous
    -- A churned customer keeps its churn month and has no rows until it reactivates.
    where mrr > 0 or previous_mrr > 0
),

final as (
    select
        master_account_id,
        month,
        cast(round(mrr, 2) as decimal(18, 2)) as mrr,
        cast(round(previous_mrr, 2) as decimal(18, 2)) as previous_mrr,
        cast(round(mrr, 2) - round(previous_mrr, 2) as decimal(18, 2)) as mrr_change,
        cast(round(mrr, 2) * 12 as decimal(18, 2)) as arr,
        movement
    from classified
)

select * from final
