-- SCD2 history of opportunities built from the snapshot dates themselves (SPEC 4.1), so
-- old exports can be replayed in any order: a version runs from the first snapshot that
-- shows it to the next snapshot that shows something else (a change or its deletion).
with snapshot_rows as (
    select * from {{ ref('stg_crm__opportunity_snapshots') }}
),

snapshots as (
    select
        snapshot_date,
        row_number() over (order by snapshot_date) as snapshot_number
    from {{ source('crm', 'snapshots') }}
    where snapshot_date <= {{ as_of_date() }}
),

stage_defaults as (
    select * from {{ ref('stage_defaults') }}
),

tracked as (
    select
        r.opportunity_id,
        r.snapshot_date,
        s.snapshot_number,
        r.stage_name,
        cast(r.amount as decimal(18, 2)) as amount,
        r.close_date,
        coalesce(r.forecast_category, d.default_forecast_category) as forecast_category,
        cast(coalesce(r.probability, d.default_probability) as decimal(9, 4)) as probability,
        r.is_closed,
        r.is_won,
        r.owner_id,
        hash(
            r.stage_name, r.amount, r.close_date, r.forecast_category, r.probability,
            r.is_closed, r.is_won, r.owner_id
        ) as version_hash
    from snapshot_rows as r
    inner join snapshots as s on r.snapshot_date = s.snapshot_date
    left join stage_defaults as d on r.stage_name = d.stage_name
),

-- A new version starts when the previous snapshot did not show the opportunity or showed
-- it with different values.
flagged as (
    select
        *,
        case
            when lag(snapshot_number) over w is distinct from snapshot_number - 1 then 1
            when lag(version_hash) over w is distinct from version_hash then 1
            else 0
        end as starts_version
    from tracked
    window w as (partition by opportunity_id order by snapshot_number)
),

numbered as (
    select
        *,
        sum(starts_version) over (
            partition by opportunity_id order by snapshot_number
            rows between unbounded preceding and current row
        ) as version_number
    from flagged
),

versions as (
    select
        opportunity_id,
        version_number,
        min(snapshot_date) as valid_from,
        max(snapshot_number) as last_snapshot_number,
        arg_min(stage_name, snapshot_number) as stage_name,
        arg_min(amount, snapshot_number) as amount,
        arg_min(close_date, snapshot_number) as close_date,
        arg_min(forecast_category, snapshot_number) as forecast_category,
        arg_min(probability, snapshot_number) as probability,
        arg_min(is_closed, snapshot_number) as is_closed,
        arg_min(is_won, snapshot_number) as is_won,
        arg_min(owner_id, snapshot_number) as owner_id
    from numbered
    group by opportunity_id, version_number
),

final as (
    select
        v.opportunity_id,
        cast(v.version_number as integer) as version_number,
        v.valid_from,
        next_snapshot.snapshot_date as valid_to,
        next_snapshot.snapshot_date is null as is_current,
        -- The next snapshot exists but shows no later version: the record was deleted then.
        next_snapshot.snapshot_date is not null
        and lead(v.valid_from) over (
            partition by v.opportunity_id order by v.version_number
        ) is distinct from next_snapshot.snapshot_date as is_deleted_after,
        v.stage_name,
        v.amount,
        v.close_date,
        v.forecast_category,
        v.probability,
        v.is_closed,
        v.is_won,
        v.owner_id
    from versions as v
    left join snapshots as next_snapshot
        on v.last_snapshot_number + 1 = next_snapshot.snapshot_number
)

select * from final
