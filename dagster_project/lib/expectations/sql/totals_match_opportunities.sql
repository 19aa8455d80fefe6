-- Parts sum to the total: per close month the forecast rows (split-aware) share the
-- opportunities' MRR and TCV, never adding or losing any.
with forecast as (
    select
        close_month,
        sum(mrr) as mrr,
        sum(tcv) as tcv,
        count(*) as forecast_rows
    from marts.fct_mrr_forecast_by_close_month
    group by close_month
),

opportunities as (
    select
        cast(date_trunc('month', close_date) as date) as close_month,
        sum(mrr) as mrr,
        sum(tcv) as tcv
    from marts.fct_opportunities
    group by 1
),

compared as (
    select
        coalesce(f.close_month, o.close_month) as close_month,
        cast(abs(coalesce(f.mrr, 0) - coalesce(o.mrr, 0)) as double) as mrr_difference,
        cast(abs(coalesce(f.tcv, 0) - coalesce(o.tcv, 0)) as double) as tcv_difference,
        -- every forecast row is rounded to the cent on its own
        0.005 * greatest(coalesce(f.forecast_rows, 0), 1) + 1e-9 as rounding_tolerance
    from forecast as f
    full outer join opportunities as o on f.close_month = o.close_month
)

select *
from compared
order by greatest(mrr_difference, tcv_difference) - rounding_tolerance desc, close_month
limit {limit}
