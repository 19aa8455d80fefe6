-- Opening + movements = closing per waterfall row group; snapshot pairs chain.
with waterfall as (
    select * from marts.fct_pipeline_waterfall
),

-- opening + every movement = closing, per row group of the waterfall (SPEC 4.12).
groups as (
    select
        grain,
        from_snapshot_date,
        to_snapshot_date,
        close_month,
        forecast_category,
        owner_id,
        'opening + movements = closing' as identity,
        cast(sum(case when movement = 'closing' then -amount else amount end) as double)
            as amount_difference,
        cast(sum(case when movement = 'closing' then -mrr else mrr end) as double)
            as mrr_difference
    from waterfall
    group by all
),

per_month as (
    select
        grain,
        from_snapshot_date,
        to_snapshot_date,
        close_month,
        sum(case when movement = 'opening' then amount else 0 end) as opening_amount,
        sum(case when movement = 'opening' then mrr else 0 end) as opening_mrr,
        sum(case when movement = 'closing' then amount else 0 end) as closing_amount,
        sum(case when movement = 'closing' then mrr else 0 end) as closing_mrr
    from waterfall
    group by all
),

-- Consecutive snapshots chain: a pair closes where the next one opens; and a week's or a
-- month's opening is the opening of the snapshot pair starting at its first snapshot.
snapshot_months as (
    select * from per_month where grain = 'snapshot'
),

chained as (
    select
        'snapshot' as grain,
        c.from_snapshot_date,
        c.to_snapshot_date,
        c.close_month,
        null as forecast_category,
        null as owner_id,
        'closing = next opening' as identity,
        cast(coalesce(c.closing_amount, 0) - coalesce(n.opening_amount, 0) as double)
            as amount_difference,
        cast(coalesce(c.closing_mrr, 0) - coalesce(n.opening_mrr, 0) as double)
            as mrr_difference
    from snapshot_months as c
    inner join (select distinct from_snapshot_date from snapshot_months) as s
        on c.to_snapshot_date = s.from_snapshot_date
    left join snapshot_months as n
        on c.to_snapshot_date = n.from_snapshot_date and c.close_month = n.close_month
),

periods as (
    select
        p.grain,
        p.from_snapshot_date,
        p.to_snapshot_date,
        p.close_month,
        null as forecast_category,
        null as owner_id,
        'period opening = snapshot opening' as identity,
        cast(p.opening_amount - coalesce(s.opening_amount, 0) as double) as amount_difference,
        cast(p.opening_mrr - coalesce(s.opening_mrr, 0) as double) as mrr_difference
    from per_month as p
    left join snapshot_months as s
        on p.from_snapshot_date = s.from_snapshot_date and p.close_month = s.close_month
    where p.grain != 'snapshot'
),

compared as (
    select * from groups
    union all
    select * from chained
    union all
    select * from periods
)

select *
from compared
-- A total order, nulls last as DuckDB sorts them by default (Spark puts them first).
order by abs(amount_difference) + abs(mrr_difference) desc, grain, from_snapshot_date,
    to_snapshot_date, close_month nulls last, forecast_category nulls last,
    owner_id nulls last, identity
limit {limit}
