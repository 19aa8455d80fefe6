-- Opening + movements = closing, every month, in constant and current currency.
with movements as (
    select * from marts.fct_mrr_movements
),

monthly as (
    select month, movement, count(*) as accounts, sum(mrr_change) as mrr_change
    from marts.fct_mrr_monthly
    group by month, movement
),

monthly_totals as (
    select
        month,
        sum(mrr) as mrr,
        sum(mrr_at_current_rates) as mrr_at_current_rates
    from marts.fct_mrr_monthly
    group by month
),

per_month as (
    select
        v.month,
        any_value(v.month_starting_mrr) as starting_mrr,
        any_value(v.month_ending_mrr) as ending_mrr,
        any_value(v.month_net_new_mrr) as net_new_mrr,
        any_value(v.month_starting_mrr_at_current_rates) as starting_mrr_at_current_rates,
        any_value(v.month_ending_mrr_at_current_rates) as ending_mrr_at_current_rates,
        sum(v.mrr_change) filter (where v.movement != 'fx_impact') as mrr_change,
        sum(v.mrr_change) filter (where v.movement = 'fx_impact') as fx_impact,
        -- each movement row = fct_mrr_monthly's accounts and change for that movement
        sum(abs(v.accounts - coalesce(m.accounts, 0))
            + abs(v.mrr_change - coalesce(m.mrr_change, 0)))
            filter (where v.movement != 'fx_impact') as monthly_mismatch
    from movements as v
    left join monthly as m on v.month = m.month and v.movement = m.movement
    group by v.month
),

compared as (
    select
        c.month,
        -- this month starts where the previous month ended, in both currency views
        cast(coalesce(c.starting_mrr, 0) - coalesce(p.ending_mrr, 0) as double)
            as starting_difference,
        cast(coalesce(c.starting_mrr_at_current_rates, 0)
            - coalesce(p.ending_mrr_at_current_rates, 0) as double)
            as starting_fx_difference,
        -- opening + movements = closing; at current rates + fx_impact
        cast(coalesce(p.ending_mrr, 0) + c.mrr_change - c.ending_mrr as double)
            as movements_difference,
        cast(coalesce(p.ending_mrr_at_current_rates, 0) + c.mrr_change + c.fx_impact
            - c.ending_mrr_at_current_rates as double) as fx_movements_difference,
        cast(c.net_new_mrr - c.mrr_change as double) as net_new_difference,
        -- the ending figures are fct_mrr_monthly's totals
        cast(abs(c.ending_mrr - t.mrr)
            + abs(c.ending_mrr_at_current_rates - t.mrr_at_current_rates) as double)
            as ending_mismatch,
        cast(c.monthly_mismatch as double) as monthly_mismatch
    from per_month as c
    left join per_month as p on p.month = cast(c.month - interval 1 month as date)
    left join monthly_totals as t on c.month = t.month
)

select *
from compared
order by abs(starting_difference) + abs(starting_fx_difference) + abs(movements_difference)
    + abs(fx_movements_difference) + abs(net_new_difference) + abs(ending_mismatch)
    + abs(monthly_mismatch) desc, month
limit {limit}
