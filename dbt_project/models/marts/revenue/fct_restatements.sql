-- The records whose changes since a month's close explain the difference between its
-- reported and restated figures (SPEC 4.12): a deleted won deal, a backdated amount, an
-- item added with a start in the month. Per month and metric they add up to the
-- difference in fct_month_close.
with frozen as (
    select * from {{ ref('int_month_close_frozen') }}
    where record_type != 'month_total'
),

restated as (
    select * from {{ ref('int_month_close_restated') }}
    where record_type != 'month_total'
),

closed_months as (
    select distinct month from {{ ref('int_month_close_restated') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

items as (
    select * from {{ ref('fct_subscription_items') }}
),

mrr_months as (
    select * from {{ ref('fct_mrr_monthly') }}
),

compared as (
    select
        coalesce(f.month, r.month) as month,
        coalesce(f.metric, r.metric) as metric,
        coalesce(f.metric_order, r.metric_order) as metric_order,
        coalesce(f.record_type, r.record_type) as record_type,
        coalesce(f.record_id, r.record_id) as record_id,
        coalesce(f.value, 0) as reported_value,
        coalesce(r.value, 0) as restated_value,
        f.record_id is not null as is_reported,
        r.record_id is not null as is_restated,
        f.record_note as reported_note,
        r.record_note as restated_note
    from frozen as f
    full outer join restated as r
        on
            f.month = r.month
            and f.metric = r.metric
            and f.record_type = r.record_type
            and f.record_id = r.record_id
    where
        coalesce(f.value, 0) != coalesce(r.value, 0)
        or f.record_id is null
        or r.record_id is null
),

explained as (
    select
        c.*,
        case
            when c.record_type = 'opportunity' and c.is_reported and not c.is_restated
                then
                    case
                        when o.opportunity_id is null then 'deleted from the CRM after the close'
                        when not o.is_won
                            then 'no longer won after the close (stage now ' || o.stage_name || ')'
                        when o.close_date < c.month or o.close_date > last_day(c.month)
                            then
                                'close date moved to ' || cast(o.close_date as {{ dbt.type_string() }})
                                || ' after the close'
                        when c.metric = 'new_logo_count' and not o.is_new_logo
                            then 'no longer a new logo: the customer had earlier business'
                        else 'no longer counted in the month'
                    end
            when c.record_type = 'opportunity' and not c.is_reported
                then
                    case
                        when c.metric = 'new_logo_count' then 'counted as a new logo after the close'
                        else 'won after the close with a close date in the month (backdated)'
                    end
            when c.record_type = 'opportunity' and c.metric = 'won_bookings_amount'
                then 'amount changed after the close'
            when c.record_type = 'opportunity' then 'MRR changed after the close (its lines changed)'
            when c.record_type = 'subscription_item' and c.is_reported and not c.is_restated
                then
                    case
                        when i.subscription_item_id is null
                            then 'subscription item no longer built (its source deal was deleted or changed)'
                        else
                            'subscription item no longer active on that day (now '
                            || cast(i.start_date as {{ dbt.type_string() }}) || ' to '
                            || coalesce(cast(i.end_date as {{ dbt.type_string() }}), 'open end') || ')'
                    end
            when c.record_type = 'subscription_item' and not c.is_reported
                then
                    'subscription item added after the close, active on that day (backdated start '
                    || cast(i.start_date as {{ dbt.type_string() }}) || ')'
            when c.record_type = 'subscription_item' then 'subscription item MRR changed after the close'
            when c.is_reported and not c.is_restated
                then 'customer movement restated: now ' || coalesce(a.movement, 'no MRR that month')
            when not c.is_reported then 'customer movement restated to this movement'
            else 'customer MRR change restated'
        end as reason
    from compared as c
    inner join closed_months as m on c.month = m.month
    left join opportunities as o
        on c.record_type = 'opportunity' and c.record_id = o.opportunity_id
    left join items as i
        on c.record_type = 'subscription_item' and c.record_id = i.subscription_item_id
    left join mrr_months as a
        on c.record_type = 'master_account' and c.record_id = a.master_account_id and c.month = a.month
),

final as (
    select
        month,
        metric,
        cast(metric_order as integer) as metric_order,
        record_type,
        record_id,
        cast(reported_value as decimal(18, 2)) as reported_value,
        cast(restated_value as decimal(18, 2)) as restated_value,
        cast(restated_value - reported_value as decimal(18, 2)) as difference,
        reason,
        reported_note,
        restated_note
    from explained
)

select * from final
