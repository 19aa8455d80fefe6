-- The renewal pipeline (SPEC 4.10): active contracts and active subscriptions whose end
-- falls within the horizon (renewal_horizon_days after as-of) or in the current or next
-- calendar quarter, with the ARR up for renewal, the matched Renewal opportunity and the
-- renewal status (see int_renewals_matched).
{%- set horizon_days = integer_var('renewal_horizon_days') %}
{%- set lead_time_days = integer_var('renewal_lead_time_days') %}
with renewals as (
    select * from {{ ref('int_renewals_matched') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

windows as (
    select
        as_of_date,
        cast({{ dbt.dateadd('day', horizon_days, 'as_of_date') }} as date) as horizon_end_date,
        cast({{ dbt.date_trunc('quarter', 'as_of_date') }} as date) as current_quarter_start,
        cast(
            {{ dbt.dateadd('day', -1, dbt.dateadd('month', 6, dbt.date_trunc('quarter', 'as_of_date'))) }}
            as date
        ) as next_quarter_end
    from as_of
),

final as (
    select
        r.renewal_id,
        r.source_type,
        r.source_id,
        r.master_account_id,
        r.account_id,
        r.end_date,
        r.notice_date,
        {{ days_between('w.as_of_date', 'r.end_date') }} as days_to_end,
        {{ quarter_label('r.end_date') }} as end_quarter,
        cast(r.arr as decimal(18, 2)) as arr,
        r.renewal_opportunity_id,
        r.renewal_opportunity_stage,
        r.renewal_opportunity_close_date,
        r.renewal_status,
        r.end_date between w.as_of_date and w.horizon_end_date as is_within_horizon,
        r.end_date between w.current_quarter_start and w.next_quarter_end
            as is_in_current_or_next_quarter,
        r.end_date between w.as_of_date
        and cast({{ dbt.dateadd('day', lead_time_days, 'w.as_of_date') }} as date)
            as is_within_lead_time
    from renewals as r
    cross join windows as w
    where
        r.end_date between w.as_of_date and w.horizon_end_date
        or r.end_date between w.current_quarter_start and w.next_quarter_end
)

select * from final
