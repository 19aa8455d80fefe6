-- Parts sum to the total: validated splits share the opportunity's MRR or amount.
with splits as (
    select * from marts.fct_opportunity_splits
),

-- Total-validated split types of MRR or Amount: their splits must add up (SPEC 4.5).
validated_types as (
    select distinct split_type_id, split_type, split_field
    from splits
    where is_total_validated and split_field in ('MRR', 'Amount')
),

per_opportunity as (
    select
        opportunity_id,
        split_type_id,
        count(*) as split_count,
        sum(split_percentage) as total_percentage,
        sum(split_mrr) as split_mrr,
        sum(split_amount) as split_amount
    from splits
    group by opportunity_id, split_type_id
),

compared as (
    select
        o.opportunity_id,
        t.split_type,
        t.split_field,
        coalesce(p.split_count, 0) as split_count,
        cast(case t.split_field
            when 'MRR' then coalesce(p.split_mrr, 0) - coalesce(o.mrr, 0)
            else coalesce(p.split_amount, 0) - coalesce(o.amount, 0)
        end as double) as difference,
        -- Shares are differences of rounded running totals: they add up to the cent.
        -- (The tolerance only absorbs the cast to double.)
        1e-9 as rounding_tolerance
    from marts.fct_opportunities as o
    cross join validated_types as t
    left join per_opportunity as p
        on o.opportunity_id = p.opportunity_id and t.split_type_id = p.split_type_id
    -- Percentages not adding up to 100 are split_errors (a warning), not a wrong sum.
    where p.total_percentage is null or p.total_percentage = 100
)

select *, abs(difference) as abs_difference
from compared
order by abs(difference) - rounding_tolerance desc, opportunity_id, split_type
limit {limit}
