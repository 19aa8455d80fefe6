-- Renewals due next quarter (the quarter after the latest snapshot's), with ARR and status.
with next_quarter as (
    select cast(date_trunc('quarter', max(snapshot_date)) + interval 3 month as date) as starts
    from raw.snapshots
)

select
    p.source_type,
    p.source_id,
    a.account_name,
    p.end_date,
    p.days_to_end,
    p.arr,
    p.renewal_status,
    p.renewal_opportunity_id
from marts.fct_renewal_pipeline as p
inner join marts.dim_accounts as a on p.master_account_id = a.master_account_id
cross join next_quarter as n
where p.end_date >= n.starts and p.end_date < n.starts + interval 3 month
order by p.end_date, p.arr desc;
