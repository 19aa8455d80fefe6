-- New logos won this quarter (of the latest snapshot): opportunities still flagged new logo.
select
    o.opportunity_id,
    o.opportunity_name,
    a.account_name,
    o.close_date,
    o.arr,
    o.tcv
from marts.fct_opportunities as o
inner join marts.dim_accounts as a on o.master_account_id = a.master_account_id
where
    o.is_won
    and o.is_new_logo
    and date_trunc('quarter', o.close_date) = (
        select date_trunc('quarter', max(snapshot_date)) from raw.snapshots
    )
order by o.close_date;
