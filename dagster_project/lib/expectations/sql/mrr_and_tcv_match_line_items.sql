-- Parts sum to the total: an opportunity's MRR and TCV are its lines' (fct_line_items).
with lines as (
    select opportunity_id, sum(mrr) as mrr, sum(tcv) as tcv
    from marts.fct_line_items
    group by opportunity_id
),

compared as (
    select
        o.opportunity_id,
        cast(o.mrr - coalesce(l.mrr, 0) as double) as mrr_difference,
        cast(o.tcv - coalesce(l.tcv, 0) as double) as tcv_difference
    from marts.fct_opportunities as o
    left join lines as l on o.opportunity_id = l.opportunity_id
)

select *
from compared
order by abs(mrr_difference) + abs(tcv_difference) desc, opportunity_id
limit {limit}
