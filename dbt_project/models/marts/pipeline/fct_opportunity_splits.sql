-- Opportunity splits with their share of MRR or Amount (SPEC 4.5). Every opportunity has
-- rows for every split type: the recorded OpportunitySplit rows, else one generated 100%
-- row to the opportunity owner (what Salesforce creates when splits are switched on).
with opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

split_types as (
    select * from {{ ref('stg_crm__opportunity_split_types') }}
),

splits as (
    select * from {{ ref('stg_crm__opportunity_splits') }}
),

typed_split_types as (
    select
        split_type_id,
        developer_name as split_type,
        case lower(trim(split_field))
            when 'mrr' then 'MRR'
            when 'amount' then 'Amount'
            else split_field
        end as split_field,
        coalesce(is_total_validated, false) as is_total_validated
    from split_types
),

recorded_splits as (
    select
        s.split_id,
        s.opportunity_id,
        s.split_owner_id,
        s.split_type_id,
        s.split_percentage,
        false as is_default_split
    from splits as s
    inner join opportunities as o on s.opportunity_id = o.opportunity_id
),

default_splits as (
    select
        'default:' || o.opportunity_id || ':' || t.split_type_id as split_id,
        o.opportunity_id,
        o.owner_id as split_owner_id,
        t.split_type_id,
        cast(100 as decimal(18, 4)) as split_percentage,
        true as is_default_split
    from opportunities as o
    cross join typed_split_types as t
    where not exists (
        select 1 from recorded_splits as r
        where r.opportunity_id = o.opportunity_id and r.split_type_id = t.split_type_id
    )
),

all_splits as (
    select * from recorded_splits
    union all
    select * from default_splits
),

-- Each split's share is the difference of rounded running totals (splits in Id order):
-- round(total x running %) - round(total x running % before it). Every share is within a
-- cent of its own rounded value, and the shares add up to round(total x sum of %), so a
-- type whose percentages add up to 100% gives exactly the opportunity's total, to the cent.
running as (
    select
        s.*,
        sum(s.split_percentage) over by_type as percent_through,
        -- In parentheses: Spark's parser reads `by_type - s` as one (hyphenated) name.
        (sum(s.split_percentage) over by_type) - s.split_percentage as percent_before
    from all_splits as s
    window by_type as (
        partition by s.opportunity_id, s.split_type_id
        order by s.split_id
        rows between unbounded preceding and current row
    )
),

final as (
    select
        s.split_id,
        s.opportunity_id,
        s.split_owner_id,
        s.split_type_id,
        t.split_type,
        t.split_field,
        coalesce(t.is_total_validated, false) as is_total_validated,
        cast(s.split_percentage as decimal(9, 4)) as split_percentage,
        s.is_default_split,
        cast(
            case when t.split_field = 'MRR' then {{ split_share('o.mrr') }} end
            as decimal(18, 2)
        ) as split_mrr,
        cast(
            case when t.split_field = 'Amount' then {{ split_share('o.amount') }} end
            as decimal(18, 2)
        ) as split_amount,
        o.currency_iso_code,
        cast(
            case when t.split_field = 'MRR' then {{ split_share('o.mrr_original') }} end
            as decimal(18, 2)
        ) as split_mrr_original,
        cast(
            case when t.split_field = 'Amount' then {{ split_share('o.amount_original') }} end
            as decimal(18, 2)
        ) as split_amount_original
    from running as s
    inner join opportunities as o on s.opportunity_id = o.opportunity_id
    left join typed_split_types as t on s.split_type_id = t.split_type_id
)

select * from final
