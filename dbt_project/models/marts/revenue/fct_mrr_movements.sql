-- MRR movements per month (SPEC 4.9): customers and MRR change per movement, plus the
-- month's net new MRR and its logo, gross and net revenue retention. A seventh row per
-- month, fx_impact (SPEC 4.13), is the change of MRR at current rates minus the change of
-- MRR, so both currency views reconcile: ending = starting + the six movements (constant
-- currency), and at current rates + fx_impact.
with monthly as (
    select * from {{ ref('fct_mrr_monthly') }}
),

movements as (
    select movement
    from (
        values
        ('new'), ('expansion'), ('contraction'), ('churn'), ('reactivation'), ('unchanged'),
        ('fx_impact')
    ) as m (movement)
),

months as (
    select distinct month from monthly
),

by_movement as (
    select
        month,
        movement,
        count(*) as accounts,
        sum(mrr_change) as mrr_change
    from monthly
    group by month, movement
    union all
    select
        month,
        'fx_impact' as movement,
        count(*) filter (where fx_change != 0) as accounts,
        sum(fx_change) as mrr_change
    from (
        select
            month,
            (mrr_at_current_rates - previous_mrr_at_current_rates) - mrr_change as fx_change
        from monthly
    ) as fx
    group by month
),

-- Retention over the customers that started the month with MRR (new and reactivated
-- customers excluded): logo = kept customers, gross = without expansion, net = with it.
month_totals as (
    select
        month,
        sum(mrr_change) as net_new_mrr,
        sum(previous_mrr) filter (where previous_mrr > 0) as starting_mrr,
        sum(mrr) as ending_mrr,
        sum(previous_mrr_at_current_rates) as starting_mrr_at_current_rates,
        sum(mrr_at_current_rates) as ending_mrr_at_current_rates,
        count(*) filter (where previous_mrr > 0) as starting_customers,
        count(*) filter (where movement = 'churn') as churned_customers,
        sum(mrr_change) filter (where movement in ('contraction', 'churn')) as lost_mrr,
        sum(mrr_change) filter (where movement = 'expansion') as expansion_mrr
    from monthly
    group by month
),

final as (
    select
        m.month,
        v.movement,
        cast(coalesce(b.accounts, 0) as integer) as accounts,
        cast(coalesce(b.mrr_change, 0) as decimal(18, 2)) as mrr_change,
        cast(t.starting_mrr as decimal(18, 2)) as month_starting_mrr,
        cast(t.ending_mrr as decimal(18, 2)) as month_ending_mrr,
        cast(t.net_new_mrr as decimal(18, 2)) as month_net_new_mrr,
        cast(t.starting_mrr_at_current_rates as decimal(18, 2))
            as month_starting_mrr_at_current_rates,
        cast(t.ending_mrr_at_current_rates as decimal(18, 2)) as month_ending_mrr_at_current_rates,
        cast(
            (t.starting_customers - t.churned_customers) / nullif(t.starting_customers, 0)
            as decimal(9, 4)
        ) as month_logo_retention,
        cast(
            (t.starting_mrr + coalesce(t.lost_mrr, 0)) / nullif(t.starting_mrr, 0)
            as decimal(9, 4)
        ) as month_gross_revenue_retention,
        cast(
            (t.starting_mrr + coalesce(t.lost_mrr, 0) + coalesce(t.expansion_mrr, 0))
            / nullif(t.starting_mrr, 0)
            as decimal(9, 4)
        ) as month_net_revenue_retention
    from months as m
    cross join movements as v
    inner join month_totals as t on m.month = t.month
    left join by_movement as b on m.month = b.month and v.movement = b.movement
)

select * from final
