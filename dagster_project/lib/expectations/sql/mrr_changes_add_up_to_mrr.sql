-- Opening + movements = closing per customer: from its first row, the running sum of a
-- customer's mrr_change is its mrr in every month (0 before it had MRR and after a churn).
with monthly as (
    select
        master_account_id,
        month,
        mrr,
        sum(mrr_change) over (
            partition by master_account_id order by month
            rows between unbounded preceding and current row
        ) as changes_so_far
    from marts.fct_mrr_monthly
)

select
    master_account_id,
    month,
    cast(mrr as double) as mrr,
    cast(changes_so_far as double) as changes_so_far,
    cast(changes_so_far - mrr as double) as difference
from monthly
order by abs(changes_so_far - mrr) desc, master_account_id, month
limit {limit}
