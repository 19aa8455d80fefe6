-- Won opportunities whose contract expires in the current or the next quarter of the
-- as-of date (the forum's question, SPEC 4.10).
select distinct
    o.opportunity_id,
    o.opportunity_name,
    o.master_account_id,
    o.close_date,
    o.arr,
    c.contract_id,
    c.status as contract_status,
    c.end_date as contract_end_date,
    c.end_quarter
from marts.fct_opportunities as o
inner join marts.fct_orders as ord
    on o.opportunity_id = ord.opportunity_id and not ord.is_cancelled
inner join marts.fct_contracts as c
    on ord.contract_id = c.contract_id
where
    o.is_won
    and c.status <> 'Draft'
    and c.quarters_from_as_of in (0, 1)
order by contract_end_date, o.opportunity_id;
