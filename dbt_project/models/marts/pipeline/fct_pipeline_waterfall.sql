-- The pipeline waterfall of every close month between snapshots (SPEC 4.12). Built from
-- the opportunity versions' validity ranges, never one row per opportunity and day: only
-- opportunities with a version boundary between S0 and S1 are looked at one by one; the
-- others (unchanged) come from running sums of the versions over snapshot dates.
with versions as (
    select * from {{ ref('int_opportunity_versions_valued') }}
),

pairs as (
    select * from {{ ref('int_pipeline_waterfall_pairs') }}
),

-- Opportunities whose version at S0 is not their version at S1: one started or ended
-- in (S0, S1].
changed as (
    select
        p.grain,
        p.from_snapshot_date,
        p.to_snapshot_date,
        v.opportunity_id
    from pairs as p
    inner join versions as v
        on p.from_snapshot_date < v.valid_from and p.to_snapshot_date >= v.valid_from
    union
    select
        p.grain,
        p.from_snapshot_date,
        p.to_snapshot_date,
        v.opportunity_id
    from pairs as p
    inner join versions as v
        on p.from_snapshot_date < v.valid_to and p.to_snapshot_date >= v.valid_to
),

changed_states as (
    select
        c.grain,
        c.from_snapshot_date,
        c.to_snapshot_date,
        c.opportunity_id,
        s0.opportunity_id is not null and not s0.is_closed as is_open_0,
        s1.opportunity_id is not null and not s1.is_closed as is_open_1,
        s0.opportunity_id is not null as exists_0,
        s1.opportunity_id is not null as exists_1,
        s0.is_closed as is_closed_0,
        s1.is_won as is_won_1,
        s0.close_month as close_month_0,
        s1.close_month as close_month_1,
        s0.amount as amount_0,
        s1.amount as amount_1,
        s0.mrr as mrr_0,
        s1.mrr as mrr_1,
        s0.forecast_category as forecast_category_0,
        s0.owner_key as owner_key_0,
        -- The row's category and owner: at S1, else at S0.
        case
            when s1.opportunity_id is not null then s1.forecast_category
            else s0.forecast_category
        end as forecast_category,
        case when s1.opportunity_id is not null then s1.owner_key else s0.owner_key end
            as owner_key
    from changed as c
    left join versions as s0
        on
            c.opportunity_id = s0.opportunity_id
            and c.from_snapshot_date >= s0.valid_from
            and (s0.valid_to is null or c.from_snapshot_date < s0.valid_to)
    left join versions as s1
        on
            c.opportunity_id = s1.opportunity_id
            and c.to_snapshot_date >= s1.valid_from
            and (s1.valid_to is null or c.to_snapshot_date < s1.valid_to)
),

changed_movements as (
    select
        grain,
        from_snapshot_date,
        to_snapshot_date,
        close_month_0 as close_month,
        forecast_category,
        owner_key,
        'opening' as movement,
        amount_0 as amount,
        mrr_0 as mrr
    from changed_states
    where is_open_0
    union all
    select
        grain,
        from_snapshot_date,
        to_snapshot_date,
        close_month_1 as close_month,
        forecast_category,
        owner_key,
        'closing' as movement,
        amount_1 as amount,
        mrr_1 as mrr
    from changed_states
    where is_open_1
    -- Entering the pipeline of its S1 close month.
    union all
    select
        grain,
        from_snapshot_date,
        to_snapshot_date,
        close_month_1 as close_month,
        forecast_category,
        owner_key,
        case
            when not exists_0 then 'created'
            when is_closed_0 then 'reopened'
            else 'moved_in'
        end as movement,
        amount_1 as amount,
        mrr_1 as mrr
    from changed_states
    where is_open_1 and not (is_open_0 and close_month_0 = close_month_1)
    -- Leaving the pipeline of its S0 close month.
    union all
    select
        grain,
        from_snapshot_date,
        to_snapshot_date,
        close_month_0 as close_month,
        forecast_category,
        owner_key,
        case
            when not exists_1 then 'deleted'
            when is_open_1 then 'moved_out'
            when is_won_1 then 'won'
            else 'lost'
        end as movement,
        -amount_0 as amount,
        -mrr_0 as mrr
    from changed_states
    where is_open_0 and not (is_open_1 and close_month_0 = close_month_1)
    -- Open in the same close month at both: the change of value.
    union all
    select
        grain,
        from_snapshot_date,
        to_snapshot_date,
        close_month_0 as close_month,
        forecast_category,
        owner_key,
        case
            when amount_1 > amount_0 or (amount_1 = amount_0 and mrr_1 > mrr_0) then 'increased'
            else 'decreased'
        end as movement,
        amount_1 - amount_0 as amount,
        mrr_1 - mrr_0 as mrr
    from changed_states
    where
        is_open_0 and is_open_1 and close_month_0 = close_month_1
        and (amount_1 != amount_0 or mrr_1 != mrr_0)
),

-- Pipeline of every (close month, category, owner) at every snapshot, as running sums of
-- the open versions: + at valid_from, - at valid_to.
open_deltas as (
    select
        close_month,
        forecast_category,
        owner_key,
        valid_from as change_date,
        amount,
        mrr,
        1 as opportunity_count
    from versions
    where not is_closed
    union all
    select
        close_month,
        forecast_category,
        owner_key,
        valid_to as change_date,
        -amount as amount,
        -mrr as mrr,
        -1 as opportunity_count
    from versions
    where not is_closed and valid_to is not null
),

daily_deltas as (
    select
        close_month,
        forecast_category,
        owner_key,
        change_date,
        sum(amount) as amount,
        sum(mrr) as mrr,
        sum(opportunity_count) as opportunity_count
    from open_deltas
    group by all
),

running_pipeline as (
    select
        close_month,
        forecast_category,
        owner_key,
        change_date,
        -- The running sums hold from this change to the next one of the same key.
        coalesce(lead(change_date) over by_date, date '9999-12-31') as next_change_date,
        sum(amount) over by_key as amount,
        sum(mrr) over by_key as mrr,
        sum(opportunity_count) over by_key as opportunity_count
    from daily_deltas
    window
        by_date as (partition by close_month, forecast_category, owner_key order by change_date),
        by_key as (
            partition by close_month, forecast_category, owner_key order by change_date
            rows between unbounded preceding and current row
        )
),

-- Each pair's S0 in the stretch of every key that has pipeline then: a range join whose
-- result is only the (pair, key) rows with opportunities, never pairs x every key.
pipeline_at_from as (
    select
        p.grain,
        p.from_snapshot_date,
        p.to_snapshot_date,
        r.close_month,
        r.forecast_category,
        r.owner_key,
        r.amount,
        r.mrr,
        r.opportunity_count
    from pairs as p
    inner join running_pipeline as r
        on
            p.from_snapshot_date >= r.change_date
            and p.from_snapshot_date < r.next_change_date
    where r.opportunity_count != 0
),

changed_at_from as (
    select
        grain,
        from_snapshot_date,
        to_snapshot_date,
        close_month_0 as close_month,
        forecast_category_0 as forecast_category,
        owner_key_0 as owner_key,
        sum(amount_0) as amount,
        sum(mrr_0) as mrr,
        count(*) as opportunity_count
    from changed_states
    where is_open_0
    group by all
),

-- Open at S0 and the same version at S1: opening and closing, nothing moved.
unchanged as (
    select
        p.grain,
        p.from_snapshot_date,
        p.to_snapshot_date,
        p.close_month,
        p.forecast_category,
        p.owner_key,
        p.amount - coalesce(c.amount, 0) as amount,
        p.mrr - coalesce(c.mrr, 0) as mrr,
        p.opportunity_count - coalesce(c.opportunity_count, 0) as opportunity_count
    from pipeline_at_from as p
    left join changed_at_from as c
        on
            p.grain = c.grain
            and p.from_snapshot_date = c.from_snapshot_date
            and p.to_snapshot_date = c.to_snapshot_date
            and p.close_month = c.close_month
            and p.forecast_category = c.forecast_category
            and p.owner_key is not distinct from c.owner_key
),

opening_and_closing as (
    select 'opening' as movement
    union all
    select 'closing' as movement
),

all_movements as (
    select
        u.grain,
        u.from_snapshot_date,
        u.to_snapshot_date,
        u.close_month,
        u.forecast_category,
        u.owner_key,
        oc.movement,
        u.amount,
        u.mrr,
        u.opportunity_count
    from unchanged as u
    cross join opening_and_closing as oc
    where u.opportunity_count > 0
    union all
    select
        grain,
        from_snapshot_date,
        to_snapshot_date,
        close_month,
        forecast_category,
        owner_key,
        movement,
        amount,
        mrr,
        1 as opportunity_count
    from changed_movements
),

final as (
    select
        m.grain,
        m.from_snapshot_date,
        m.to_snapshot_date,
        m.close_month,
        m.forecast_category,
        nullif(m.owner_key, '') as owner_id,
        m.movement,
        case m.movement
            when 'opening' then 0
            when 'created' then 1
            when 'moved_in' then 2
            when 'reopened' then 3
            when 'increased' then 4
            when 'decreased' then 5
            when 'moved_out' then 6
            when 'won' then 7
            when 'lost' then 8
            when 'deleted' then 9
            when 'closing' then 10
        end as movement_order,
        cast(sum(m.opportunity_count) as integer) as opportunity_count,
        cast(sum(m.amount) as decimal(18, 2)) as amount,
        cast(sum(m.mrr) as decimal(18, 2)) as mrr,
        any_value(f.is_complete_period) as is_complete_period
    from all_movements as m
    inner join pairs as f
        on
            m.grain = f.grain
            and m.from_snapshot_date = f.from_snapshot_date
            and m.to_snapshot_date = f.to_snapshot_date
    group by all
)

select * from final
