-- MRR and TCV by close month x forecast category x owner (SPEC 4.5), what Salesforce's
-- collaborative MRR forecast shows. Owners are split-aware: each owner gets their share of
-- the MRR split type; an opportunity without valid MRR splits counts 100% for its owner.
with opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

splits as (
    select * from {{ ref('fct_opportunity_splits') }}
),

split_errors as (
    select * from {{ ref('split_errors') }}
),

-- The split type the MRR forecast follows: the MRR type whose totals Salesforce validates,
-- else the first MRR type by name.
forecast_split_type as (
    select split_type_id
    from splits
    where split_field = 'MRR'
    group by split_type_id, split_type, is_total_validated
    order by is_total_validated desc, split_type asc, split_type_id asc
    limit 1
),

split_shares as (
    select
        s.opportunity_id,
        s.split_owner_id as owner_id,
        s.split_percentage
    from splits as s
    inner join forecast_split_type as f on s.split_type_id = f.split_type_id
    where not exists (
        select 1 from split_errors as e
        where e.opportunity_id = s.opportunity_id and e.split_type_id = s.split_type_id
    )
),

owner_shares as (
    select
        opportunity_id,
        owner_id,
        split_percentage
    from split_shares

    union all

    select
        o.opportunity_id,
        o.owner_id,
        cast(100 as decimal(18, 4)) as split_percentage
    from opportunities as o
    where not exists (
        select 1 from split_shares as s
        where s.opportunity_id = o.opportunity_id
    )
),

shared as (
    select
        cast({{ dbt.date_trunc('month', 'o.close_date') }} as date) as close_month,
        o.forecast_category,
        s.owner_id,
        o.opportunity_id,
        cast(o.mrr as decimal(38, 2)) * s.split_percentage * 0.01 as mrr,
        cast(o.tcv as decimal(38, 2)) * s.split_percentage * 0.01 as tcv,
        cast(o.mrr as decimal(38, 2)) * s.split_percentage * 0.01
        * coalesce(o.probability, 0) * 0.01 as weighted_mrr,
        cast(o.tcv as decimal(38, 2)) * s.split_percentage * 0.01
        * coalesce(o.probability, 0) * 0.01 as weighted_tcv
    from opportunities as o
    inner join owner_shares as s on o.opportunity_id = s.opportunity_id
),

final as (
    select
        close_month,
        forecast_category,
        owner_id,
        cast(round(sum(mrr), 2) as decimal(18, 2)) as mrr,
        cast(round(12 * sum(mrr), 2) as decimal(18, 2)) as arr,
        cast(round(sum(tcv), 2) as decimal(18, 2)) as tcv,
        cast(round(sum(weighted_mrr), 2) as decimal(18, 2)) as weighted_mrr,
        cast(round(sum(weighted_tcv), 2) as decimal(18, 2)) as weighted_tcv,
        cast(count(distinct opportunity_id) as integer) as opportunity_count
    from shared
    group by close_month, forecast_category, owner_id
)

select * from final
