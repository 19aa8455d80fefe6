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
    from {{ ref('stg_crm__snapshots') }}
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
        r.currency_iso_code,
        {{ row_hash([
            'r.stage_name', 'r.amount', 'r.close_date', 'r.forecast_category', 'r.probability',
            'r.is_closed', 'r.is_won', 'r.owner_id', 'r.currency_iso_code'
        ]) }} as version_hash
    from snapshot_rows as r
    inner join snapshots as s on r.snapshot_date = s.snapshot_date
    left join stage_defaults as d on r.stage_name = d.stage_name
),

-- A new version starts when the previous snapshot did not show the opportunity or showed
-- it with different values.
with_prior as (
    select
        *,
        lag(snapshot_number) over by_snapshot as prior_snapshot_number,
        lag(version_hash) over by_snapshot as prior_version_hash
    from tracked
    window by_snapshot as (partition by opportunity_id order by snapshot_number)
),

flagged as (
    select
        *,
        case
            when prior_snapshot_number is null then 1
            when prior_snapshot_number <> snapshot_number - 1 then 1
            when prior_version_hash <> version_hash then 1
            else 0
        end as starts_version
    from with_prior
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
        {{ value_at_min('stage_name', 'snapshot_number') }} as stage_name,
        {{ value_at_min('amount', 'snapshot_number') }} as amount,
        {{ value_at_min('close_date', 'snapshot_number') }} as close_date,
        {{ value_at_min('forecast_category', 'snapshot_number') }} as forecast_category,
        {{ value_at_min('probability', 'snapshot_number') }} as probability,
        {{ value_at_min('is_closed', 'snapshot_number') }} as is_closed,
        {{ value_at_min('is_won', 'snapshot_number') }} as is_won,
        {{ value_at_min('owner_id', 'snapshot_number') }} as owner_id,
        {{ value_at_min('currency_iso_code', 'snapshot_number') }} as currency_iso_code
    from numbered
    group by opportunity_id, version_number
),

with_next as (
    select
        v.*,
        next_snapshot.snapshot_date as next_snapshot_date,
        lead(v.valid_from) over (
            partition by v.opportunity_id order by v.version_number
        ) as next_version_from
    from versions as v
    left join snapshots as next_snapshot
        on v.last_snapshot_number + 1 = next_snapshot.snapshot_number
),

final as (
    select
        opportunity_id,
        cast(version_number as integer) as version_number,
        valid_from,
        next_snapshot_date as valid_to,
        next_snapshot_date is null as is_current,
        -- The next snapshot exists but shows no later version: the record was deleted then.
        coalesce(
            next_snapshot_date is not null
            and (next_version_from is null or next_version_from <> next_snapshot_date),
            false
        ) as is_deleted_after,
        stage_name,
        amount,
        close_date,
        forecast_category,
        probability,
        is_closed,
        is_won,
        owner_id,
        currency_iso_code
    from with_next
)

select * from final
