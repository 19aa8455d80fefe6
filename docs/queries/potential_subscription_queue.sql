-- ClientSuccess's queue: potential subscriptions waiting for activation, oldest first.
select
    q.potential_subscription_id,
    a.account_name,
    q.queued_date,
    q.days_in_queue,
    q.csm_id,
    q.is_new_since_previous_snapshot
from marts.fct_potential_subscriptions as q
inner join marts.dim_accounts as a on q.master_account_id = a.master_account_id
where q.status = 'in_queue'
order by q.days_in_queue desc;
