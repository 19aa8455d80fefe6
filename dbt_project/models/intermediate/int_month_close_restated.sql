-- Today's (restated) figures of every closed month (SPEC 4.12), at the grain of the records
-- that make them up, so that a frozen month can be compared record by record: a month is
-- closed once the as-of date is at least month_close_days after its last day.
with items as (
    select * from {{ ref('fct_subscription_items') }}
),

mrr_months as (
    select * from {{ ref('fct_mrr_monthly') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

-- From the first month with MRR or a won deal to the last closed month.
first_month as (
    select
        coalesce(
            least(
                (select min(m.month) from mrr_months as m),
                (
                    select cast({{ dbt.date_trunc('month', 'min(o.close_date)') }} as date)
                    from opportunities as o
                    where o.is_won
                )
            ),
            (select cast({{ dbt.date_trunc('month', 'a.as_of_date') }} as date) from as_of as a)
        ) as month
),

month_starts as (
    select cast(spine.month as date) as month
    from {{ month_starts(
        "(select f.month from first_month as f)",
        "(select a.as_of_date + interval 1 day from as_of as a)"
    ) }}
),

month_ends as (
    select
        month,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'month')) }} as date) as month_end
    from month_starts
),

closed_months as (
    select
        m.month,
        m.month_end
    from month_ends as m
    cross join as_of as a
    where m.month_end + {{ integer_var('month_close_days') }} <= a.as_of_date
),

metrics as (
    select
        metric,
        metric_order
    from (
        values
        ('opening_mrr', 1),
        ('closing_mrr', 2),
        ('mrr_new', 3),
        ('mrr_expansion', 4),
        ('mrr_contraction', 5),
        ('mrr_churn', 6),
        ('mrr_reactivation', 7),
        ('won_bookings_amount', 8),
        ('won_bookings_mrr', 9),
        ('new_logo_count', 10)
    ) as metric_list (metric, metric_order)
),

-- Items active on the month's first day (opening) and last day (closing), SPEC 4.9.
item_records as (
    select
        m.month,
        'opening_mrr' as metric,
        'subscription_item' as record_type,
        i.subscription_item_id as record_id,
        i.mrr as value,
        'active ' || cast(i.start_date as {{ dbt.type_string() }}) || ' to '
        || coalesce(cast(i.end_date as {{ dbt.type_string() }}), 'open end')
        || ', MRR ' || cast(i.mrr as {{ dbt.type_string() }})
            as record_note
    from items as i
    inner join closed_months as m
        on {{ is_active_on('i', 'm.month') }}
    union all
    select
        m.month,
        'closing_mrr' as metric,
        'subscription_item' as record_type,
        i.subscription_item_id as record_id,
        i.mrr as value,
        'active ' || cast(i.start_date as {{ dbt.type_string() }}) || ' to '
        || coalesce(cast(i.end_date as {{ dbt.type_string() }}), 'open end')
        || ', MRR ' || cast(i.mrr as {{ dbt.type_string() }})
            as record_note
    from items as i
    inner join closed_months as m
        on {{ is_active_on('i', 'm.month_end') }}
),

-- MRR by movement: each customer's change of the month under its movement (SPEC 4.9).
movement_records as (
    select
        r.month,
        'mrr_' || r.movement as metric,
        'master_account' as record_type,
        r.master_account_id as record_id,
        r.mrr_change as value,
        r.movement || ': ' || cast(r.previous_mrr as {{ dbt.type_string() }})
        || ' to ' || cast(r.mrr as {{ dbt.type_string() }})
            as record_note
    from mrr_months as r
    inner join closed_months as m on r.month = m.month
    where r.movement != 'unchanged'
),

-- Won bookings and new logos: won deals with a close date in the month.
opportunity_records as (
    select
        m.month,
        x.metric,
        'opportunity' as record_type,
        o.opportunity_id as record_id,
        case x.metric
            when 'won_bookings_amount' then o.amount
            when 'won_bookings_mrr' then o.mrr
            else 1
        end as value,
        o.stage_name || ', closed ' || cast(o.close_date as {{ dbt.type_string() }})
        || ', amount ' || cast(o.amount as {{ dbt.type_string() }})
        || ', MRR ' || cast(o.mrr as {{ dbt.type_string() }}) as record_note
    from opportunities as o
    inner join closed_months as m
        on o.close_date between m.month and m.month_end
    cross join metrics as x
    where
        o.is_won
        and (
            x.metric in ('won_bookings_amount', 'won_bookings_mrr')
            or (x.metric = 'new_logo_count' and o.is_new_logo)
        )
),

records as (
    select * from item_records
    union all
    select * from movement_records
    union all
    select * from opportunity_records
),

-- One total per closed month and metric, 0 when no record makes it up.
totals as (
    select
        m.month,
        x.metric,
        'month_total' as record_type,
        'all' as record_id,
        coalesce(sum(coalesce(r.value, 0)), 0) as value,
        null as record_note
    from closed_months as m
    cross join metrics as x
    left join records as r on m.month = r.month and x.metric = r.metric
    group by m.month, x.metric
),

final as (
    select
        t.month,
        t.metric,
        cast(x.metric_order as integer) as metric_order,
        t.record_type,
        t.record_id,
        cast(coalesce(t.value, 0) as decimal(18, 2)) as value,
        t.record_note
    from (
        select * from totals
        union all
        select * from records
    ) as t
    inner join metrics as x on t.metric = x.metric
)

select * from final
