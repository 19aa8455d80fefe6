-- Opportunities whose recorded splits of a total-validated split type do not add up to
-- 100% (SPEC 4.5). Generated 100% owner rows can never be wrong, so only recorded splits
-- are checked.
with splits as (
    select * from {{ ref('fct_opportunity_splits') }}
),

totals as (
    select
        opportunity_id,
        split_type_id,
        split_type,
        sum(split_percentage) as total_percentage,
        count(*) as split_count
    from splits
    where is_total_validated and not is_default_split
    group by opportunity_id, split_type_id, split_type
),

final as (
    select
        opportunity_id,
        split_type_id,
        split_type,
        cast(total_percentage as decimal(9, 4)) as total_percentage,
        cast(split_count as integer) as split_count,
        'splits of type ' || split_type || ' add up to '
        || cast(cast(total_percentage as decimal(9, 2)) as {{ dbt.type_string() }})
        || '%, not 100%' as message
    from totals
    where total_percentage != 100
)

select * from final
