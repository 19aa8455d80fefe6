-- The forum's report (SPEC 4.10): "won opportunities whose contract expires in the current
-- or the next quarter", answered by one query over the marts. This is the README's query
-- (marts.x written as ref('x')); the test fails with every row that is not a won
-- opportunity with a non-draft contract ending in the as-of date's quarter or the next.
with forum_report as (
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
    from {{ ref('fct_opportunities') }} as o
    inner join {{ ref('fct_orders') }} as ord
        on o.opportunity_id = ord.opportunity_id and not ord.is_cancelled
    inner join {{ ref('fct_contracts') }} as c
        on ord.contract_id = c.contract_id
    where
        o.is_won
        and c.status <> 'Draft'
        and c.quarters_from_as_of in (0, 1)
),

quarters as (
    select
        cast({{ dbt.date_trunc('quarter', as_of_date()) }} as date) as current_quarter_start,
        cast({{ dbt.dateadd('month', 6, dbt.date_trunc('quarter', as_of_date())) }} as date)
            as after_next_quarter_start
)

select f.*
from forum_report as f
cross join quarters as q
left join {{ ref('fct_opportunities') }} as o on f.opportunity_id = o.opportunity_id
where
    not coalesce(o.is_won, false)
    or f.contract_status = 'Draft'
    or f.contract_end_date is null
    or f.contract_end_date < q.current_quarter_start
    or f.contract_end_date >= q.after_next_quarter_start
