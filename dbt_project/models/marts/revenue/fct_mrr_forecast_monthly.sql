-- Finance's MRR forecast (SPEC 4.11): for each month from as-of - 12 to as-of + 24 months
-- and each scenario, committed MRR (subscription items, known ends included) + pipeline MRR
-- (open opportunities from their close month for their term) - MRR at risk (still counted
-- as committed after the end of a renewal that has no renewal opportunity). The scenario
-- expected_renewals (SPEC 4.13) has no pipeline: in its place, every renewal due without a
-- renewal opportunity comes back at the trailing-twelve-month gross renewal rate.
{%- set months_back = integer_var('mrr_forecast_months_back') %}
{%- set months_ahead = integer_var('mrr_forecast_months_ahead') %}
with subscription_items as (
    select * from {{ ref('fct_subscription_items') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

line_items as (
    select * from {{ ref('fct_line_items') }}
),

renewals as (
    select * from {{ ref('int_renewals_matched') }}
),

renewal_rates as (
    select * from {{ ref('int_renewal_rates') }}
),

as_of as (
    select cast({{ dbt.date_trunc('month', as_of_date()) }} as date) as as_of_month
),

month_offsets as (
    select {{ installment_indexes(months_back + months_ahead + 1) }} as month_offset
),

months as (
    select
        cast({{ dbt.dateadd('month', 'o.month_offset - ' ~ months_back, 'a.as_of_month') }} as date)
            as month,
        a.as_of_month
    from month_offsets as o
    cross join as_of as a
),

scenarios as (
    select 'committed' as scenario
    union all
    select 'commit' as scenario
    union all
    select 'best_case' as scenario
    union all
    select 'weighted_pipeline' as scenario
    union all
    select 'expected_renewals' as scenario
),

-- Committed: items active on the month's first day (SPEC 4.9's convention).
committed as (
    select
        m.month,
        sum(i.mrr) as committed_mrr
    from months as m
    inner join subscription_items as i
        on
            {{ is_active_on('i', 'm.month') }}
    group by m.month
),

-- Pipeline: each recurring line of an open opportunity counts from the close month for
-- its term (whole months, rounded up), in the months from the as-of month on.
open_lines as (
    select
        o.opportunity_id,
        o.forecast_category,
        coalesce(o.probability, 0) as probability,
        cast({{ dbt.date_trunc('month', 'o.close_date') }} as date) as start_month,
        cast(ceil(coalesce(li.term_months, o.term_months, 12)) as integer) as term_months,
        li.mrr
    from opportunities as o
    inner join line_items as li on o.opportunity_id = li.opportunity_id
    where not o.is_closed and li.mrr <> 0
),

-- Scenario weights: commit = Commit only; best_case = Commit + Best Case;
-- weighted_pipeline = every open opportunity x probability; committed = none.
-- Decimal arithmetic throughout (x 0.01, not / 100, which DuckDB computes in floating
-- point): the monthly sums are exact and the same whatever order rows are added in.
scenario_lines as (
    select
        s.scenario,
        l.start_month,
        l.term_months,
        l.mrr * case
            when s.scenario = 'commit' and l.forecast_category = 'Commit' then 1
            when s.scenario = 'best_case' and l.forecast_category in ('Commit', 'Best Case') then 1
            when s.scenario = 'weighted_pipeline' then l.probability * 0.01
            else 0
        end as weighted_mrr
    from open_lines as l
    cross join scenarios as s
    where s.scenario not in ('committed', 'expected_renewals')
),

pipeline as (
    select
        m.month,
        l.scenario,
        sum(l.weighted_mrr) as pipeline_mrr
    from months as m
    inner join scenario_lines as l
        on
            m.month >= l.start_month
            and m.month < cast({{ dbt.dateadd('month', 'l.term_months', 'l.start_month') }} as date)
    where m.month >= m.as_of_month
    group by m.month, l.scenario
),

-- At risk: renewals without a renewal opportunity (no renewal opportunity, or churned:
-- lost or ended without one). Their items (a contract: the customer's items active on its
-- end date; a subscription: its own) still counted as committed after that end are at risk.
-- Items that end with the renewal already left committed MRR, so they are not counted twice.
at_risk_items as (
    select distinct
        r.end_date as renewal_end_date,
        i.subscription_item_id,
        i.mrr,
        i.start_date,
        i.end_date
    from renewals as r
    inner join subscription_items as i
        on
            r.master_account_id = i.master_account_id
            and (r.source_type = 'contract' or r.source_id = i.subscription_id)
            and {{ is_active_on('i', 'r.end_date') }}
    where r.renewal_status in ('no renewal opportunity', 'churned')
),

at_risk_item_months as (
    select distinct
        m.month,
        a.subscription_item_id,
        a.mrr
    from months as m
    inner join at_risk_items as a
        on
            m.month > a.renewal_end_date
            and {{ is_active_on('a', 'm.month') }}
    where m.month >= m.as_of_month
),

at_risk as (
    select
        month,
        sum(mrr) as at_risk_mrr
    from at_risk_item_months
    group by month
),

-- Expected renewals: the items of each renewal due without a renewal opportunity (as at
-- risk: a contract's customer items active on its end date, a subscription's own), from
-- the month after the earliest such end on, at the renewal rate of the item's product
-- family (the overall rate '*' for a family with fewer than 10 renewals or none).
due_renewal_items as (
    select
        i.subscription_item_id,
        i.source_line_item_id,
        i.mrr,
        min(r.end_date) as renewal_end_date
    from renewals as r
    inner join subscription_items as i
        on
            r.master_account_id = i.master_account_id
            and (r.source_type = 'contract' or r.source_id = i.subscription_id)
            and {{ is_active_on('i', 'r.end_date') }}
    where r.renewal_status = 'no renewal opportunity'
    group by i.subscription_item_id, i.source_line_item_id, i.mrr
),

expected_items as (
    select
        d.subscription_item_id,
        d.renewal_end_date,
        d.mrr * coalesce(f.renewal_rate, o.renewal_rate, 0) as expected_mrr
    from due_renewal_items as d
    left join line_items as li on d.source_line_item_id = li.line_item_id
    left join renewal_rates as f on li.product_family = f.product_family
    left join renewal_rates as o on o.product_family = '*'
),

expected_renewals as (
    select
        m.month,
        'expected_renewals' as scenario,
        sum(e.expected_mrr) as pipeline_mrr
    from months as m
    inner join expected_items as e on m.month > e.renewal_end_date
    where m.month >= m.as_of_month
    group by m.month
),

scenario_pipeline as (
    select * from pipeline
    union all
    select * from expected_renewals
),

combined as (
    select
        m.month,
        s.scenario,
        m.month >= m.as_of_month as is_forecast,
        cast(round(coalesce(c.committed_mrr, 0), 2) as decimal(18, 2)) as committed_mrr,
        cast(round(coalesce(p.pipeline_mrr, 0), 2) as decimal(18, 2)) as pipeline_mrr,
        cast(round(coalesce(r.at_risk_mrr, 0), 2) as decimal(18, 2)) as at_risk_mrr
    from months as m
    cross join scenarios as s
    left join committed as c on m.month = c.month
    left join scenario_pipeline as p on m.month = p.month and s.scenario = p.scenario
    left join at_risk as r on m.month = r.month
),

final as (
    select
        month,
        scenario,
        is_forecast,
        committed_mrr,
        pipeline_mrr,
        at_risk_mrr,
        cast(committed_mrr + pipeline_mrr - at_risk_mrr as decimal(18, 2)) as forecast_mrr
    from combined
)

select * from final
