-- Against the source, not the mart's own flags: a line whose product is One-Time or Usage
-- in the current Product2 file has MRR 0, and a line in schedule_errors MRR and TCV 0.
with products as (
    select product_id, charge_type
    from staging.stg_crm__products
),

schedule_error_lines as (
    select distinct line_item_id
    from marts.schedule_errors
),

lines as (
    select
        l.line_item_id,
        p.charge_type as source_charge_type,
        e.line_item_id is not null as in_schedule_errors,
        l.mrr,
        l.tcv
    from marts.fct_line_items as l
    left join products as p on l.product_id = p.product_id
    left join schedule_error_lines as e on l.line_item_id = e.line_item_id
)

select
    line_item_id,
    source_charge_type,
    in_schedule_errors,
    cast(case
        when lower(trim(source_charge_type)) in ('one-time', 'usage') or in_schedule_errors then mrr
        else 0
    end as double) as unexpected_mrr,
    cast(case when in_schedule_errors then tcv else 0 end as double) as unexpected_tcv
from lines
order by abs(unexpected_mrr) + abs(unexpected_tcv) desc, line_item_id
limit {limit}
