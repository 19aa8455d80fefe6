-- The snapshot pairs (S0, S1) of the pipeline waterfall (SPEC 4.12): consecutive snapshots
-- (grain snapshot), and per ISO week and month the first snapshot of the period and the
-- first snapshot of the next period that has one; the latest period runs to the latest
-- snapshot (period to date, is_complete_period false).
with snapshots as (
    select snapshot_date
    from {{ ref('stg_crm__snapshots') }}
    where snapshot_date <= {{ as_of_date() }}
),

snapshot_pairs as (
    select
        'snapshot' as grain,
        snapshot_date as from_snapshot_date,
        lead(snapshot_date) over (order by snapshot_date) as to_snapshot_date,
        true as is_complete_period
    from snapshots
),

-- Weeks (ISO, from Monday) and months that have a snapshot: S0 = their first snapshot.
periods as (
    select
        'week' as grain,
        cast({{ dbt.date_trunc('week', 'snapshot_date') }} as date) as period_start,
        min(snapshot_date) as first_snapshot_date
    from snapshots
    group by 1, 2
    union all
    select
        'month' as grain,
        cast({{ dbt.date_trunc('month', 'snapshot_date') }} as date) as period_start,
        min(snapshot_date) as first_snapshot_date
    from snapshots
    group by 1, 2
),

latest_snapshot as (
    select max(snapshot_date) as snapshot_date from snapshots
),

-- S1 = the first snapshot of the next period with one; the latest period runs to the
-- latest snapshot (period to date) and is flagged as not complete.
period_pairs as (
    select
        periods.grain,
        periods.first_snapshot_date as from_snapshot_date,
        coalesce(lead(periods.first_snapshot_date) over by_grain, latest.snapshot_date)
            as to_snapshot_date,
        lead(periods.first_snapshot_date) over by_grain is not null as is_complete_period
    from periods
    cross join latest_snapshot as latest
    window by_grain as (partition by grain order by period_start)
),

final as (
    select * from snapshot_pairs
    where to_snapshot_date is not null
    union all
    select * from period_pairs
    where to_snapshot_date > from_snapshot_date
)

select * from final
