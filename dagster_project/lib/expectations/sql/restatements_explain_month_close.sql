-- Parts sum to the total: restated records explain each month-close difference.
with explained as (
    select month, metric, sum(difference) as difference, count(*) as records
    from marts.fct_restatements
    group by month, metric
),

compared as (
    select
        coalesce(c.month, e.month) as month,
        coalesce(c.metric, e.metric) as metric,
        cast(c.difference as double) as month_close_difference,
        cast(coalesce(e.difference, 0) as double) as restated_records_difference,
        cast(coalesce(c.difference, 0) - coalesce(e.difference, 0) as double) as unexplained,
        -- a restatement of a month or figure that fct_month_close does not have
        cast(case when c.month is null then 1 else 0 end as double) as orphan_records
    from marts.fct_month_close as c
    full outer join explained as e on c.month = e.month and c.metric = e.metric
)

select *
from compared
order by abs(unexplained) + orphan_records desc, month, metric
limit {limit}
