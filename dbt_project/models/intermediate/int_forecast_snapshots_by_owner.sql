-- The close-month forecast as Salesforce rolls it up (SPEC 4.12) at every snapshot, per
-- owner: running sums of the versions' values over snapshot dates (+ at valid_from, - at
-- valid_to), read at each snapshot for every close month not before the snapshot's month.
with versions as (
    select * from {{ ref('int_opportunity_versions_valued') }}
),

snapshots as (
    select snapshot_date
    from {{ ref('stg_crm__snapshots') }}
    where snapshot_date <= {{ as_of_date() }}
),

current_snapshot as (
    select {{ current_snapshot_date() }} as snapshot_date
),

-- What each version adds to its close month's forecast, by cumulative category.
version_values as (
    select
        close_month,
        owner_key,
        valid_from,
        valid_to,
        case when is_won then amount else 0 end as won_amount,
        case when is_won then mrr else 0 end as won_mrr,
        case when not is_closed and forecast_category = 'Commit' then amount else 0 end
            as commit_amount,
        case when not is_closed and forecast_category = 'Commit' then mrr else 0 end
            as commit_mrr,
        case
            when not is_closed and forecast_category in ('Best Case', 'Most Likely') then amount
            else 0
        end as best_case_amount,
        case
            when not is_closed and forecast_category in ('Best Case', 'Most Likely') then mrr
            else 0
        end as best_case_mrr,
        case when not is_closed and forecast_category != 'Omitted' then amount else 0 end
            as pipeline_amount,
        case when not is_closed and forecast_category != 'Omitted' then mrr else 0 end
            as pipeline_mrr,
        case
            when not is_closed then round(amount * coalesce(probability, 0) * 0.01, 2)
            else 0
        end as weighted_amount,
        case
            when not is_closed then round(mrr * coalesce(probability, 0) * 0.01, 2)
            else 0
        end as weighted_mrr
    from versions
),

deltas as (
    select
        close_month,
        owner_key,
        valid_from as change_date,
        1 as sign,
        won_amount,
        won_mrr,
        commit_amount,
        commit_mrr,
        best_case_amount,
        best_case_mrr,
        pipeline_amount,
        pipeline_mrr,
        weighted_amount,
        weighted_mrr
    from version_values
    union all
    select
        close_month,
        owner_key,
        valid_to as change_date,
        -1 as sign,
        won_amount,
        won_mrr,
        commit_amount,
        commit_mrr,
        best_case_amount,
        best_case_mrr,
        pipeline_amount,
        pipeline_mrr,
        weighted_amount,
        weighted_mrr
    from version_values
    where valid_to is not null
),

daily_deltas as (
    select
        close_month,
        owner_key,
        change_date,
        sum(sign * won_amount) as won_amount,
        sum(sign * won_mrr) as won_mrr,
        sum(sign * commit_amount) as commit_amount,
        sum(sign * commit_mrr) as commit_mrr,
        sum(sign * best_case_amount) as best_case_amount,
        sum(sign * best_case_mrr) as best_case_mrr,
        sum(sign * pipeline_amount) as pipeline_amount,
        sum(sign * pipeline_mrr) as pipeline_mrr,
        sum(sign * weighted_amount) as weighted_amount,
        sum(sign * weighted_mrr) as weighted_mrr
    from deltas
    group by all
),

running as (
    select
        close_month,
        owner_key,
        change_date,
        -- The running sums hold from this change to the next one of the same key.
        coalesce(lead(change_date) over by_date, date '9999-12-31') as next_change_date,
        sum(won_amount) over by_key as won_amount,
        sum(won_mrr) over by_key as won_mrr,
        sum(commit_amount) over by_key as commit_amount,
        sum(commit_mrr) over by_key as commit_mrr,
        sum(best_case_amount) over by_key as best_case_amount,
        sum(best_case_mrr) over by_key as best_case_mrr,
        sum(pipeline_amount) over by_key as pipeline_amount,
        sum(pipeline_mrr) over by_key as pipeline_mrr,
        sum(weighted_amount) over by_key as weighted_amount,
        sum(weighted_mrr) over by_key as weighted_mrr
    from daily_deltas
    window
        by_date as (partition by close_month, owner_key order by change_date),
        by_key as (
            partition by close_month, owner_key order by change_date
            rows between unbounded preceding and current row
        )
),

-- The actual of a close month: won with CloseDate in it, in the as-of snapshot.
actuals as (
    select
        v.close_month,
        v.owner_key,
        sum(v.amount) as actual_amount,
        sum(v.mrr) as actual_mrr
    from versions as v
    cross join current_snapshot as c
    where
        v.is_won
        and v.valid_from <= c.snapshot_date
        and (v.valid_to is null or c.snapshot_date < v.valid_to)
    group by all
),

-- Each snapshot in the stretch of every (close month, owner) that has versions by then, for
-- close months from the snapshot's month on: a range join, never snapshots x every key.
read_at_snapshot as (
    select
        s.snapshot_date,
        r.close_month,
        r.owner_key,
        r.won_amount,
        r.won_mrr,
        r.commit_amount,
        r.commit_mrr,
        r.best_case_amount,
        r.best_case_mrr,
        r.pipeline_amount,
        r.pipeline_mrr,
        r.weighted_amount,
        r.weighted_mrr
    from snapshots as s
    inner join running as r
        on
            s.snapshot_date >= r.change_date
            and s.snapshot_date < r.next_change_date
            and r.close_month >= cast({{ dbt.date_trunc('month', 's.snapshot_date') }} as date)
),

methods as (
    select
        'commit' as method,
        1 as method_order
    union all
    select
        'best_case' as method,
        2 as method_order
    union all
    select
        'pipeline' as method,
        3 as method_order
    union all
    select
        'weighted_pipeline' as method,
        4 as method_order
),

final as (
    select
        r.snapshot_date,
        r.close_month,
        nullif(r.owner_key, '') as owner_id,
        m.method,
        m.method_order,
        cast(
            r.won_amount + case m.method
                when 'commit' then r.commit_amount
                when 'best_case' then r.commit_amount + r.best_case_amount
                when 'pipeline' then r.pipeline_amount
                else r.weighted_amount
            end
            as decimal(18, 2)
        ) as forecast_amount,
        cast(
            r.won_mrr + case m.method
                when 'commit' then r.commit_mrr
                when 'best_case' then r.commit_mrr + r.best_case_mrr
                when 'pipeline' then r.pipeline_mrr
                else r.weighted_mrr
            end
            as decimal(18, 2)
        ) as forecast_mrr,
        cast(coalesce(a.actual_amount, 0) as decimal(18, 2)) as actual_amount,
        cast(coalesce(a.actual_mrr, 0) as decimal(18, 2)) as actual_mrr
    from read_at_snapshot as r
    cross join methods as m
    left join actuals as a on r.close_month = a.close_month and r.owner_key = a.owner_key
)

select * from final
where forecast_amount != 0 or forecast_mrr != 0 or actual_amount != 0 or actual_mrr != 0
