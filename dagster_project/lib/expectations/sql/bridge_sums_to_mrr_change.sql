-- Parts sum to the total: the products' changes are the customer's MRR change.
with bridge as (
    select
        master_account_id,
        month,
        sum(mrr_change) as mrr_change,
        sum(abs(new_product + removed_product + quantity + price - mrr_change)) as parts_difference
    from marts.fct_mrr_bridge_detail
    group by master_account_id, month
),

compared as (
    select
        coalesce(m.master_account_id, b.master_account_id) as master_account_id,
        coalesce(m.month, b.month) as month,
        -- the products' changes add up to the customer's change (0 without bridge rows)
        cast(coalesce(b.mrr_change, 0) - coalesce(m.mrr_change, 0) as double)
            as change_difference,
        cast(coalesce(b.parts_difference, 0) as double) as parts_difference,
        cast(case when m.master_account_id is null then 1 else 0 end as double)
            as rows_without_customer_month
    from marts.fct_mrr_monthly as m
    full outer join bridge as b
        on m.master_account_id = b.master_account_id and m.month = b.month
)

select *
from compared
order by abs(change_difference) + parts_difference + rows_without_customer_month desc,
    master_account_id, month
limit {limit}
