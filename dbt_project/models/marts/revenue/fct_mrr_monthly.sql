-- MRR per customer and month with its movement (SPEC 4.9, 4.13). opening_mrr counts the
-- items active on the month's first day (start <= day <= end), the dbt MRR playbook's
-- convention: starting Jan 15 first counts in February; ending Jan 14 last counts in
-- January. closing_mrr counts those active on the month's last day (a Jan 15 start counts
-- in January). The var mrr_convention chooses which one is `mrr` and drives the movements.
{%- set convention = var('mrr_convention') %}
{%- if convention not in ['opening', 'closing'] %}
    {{ exceptions.raise_compiler_error(
        "var mrr_convention must be 'opening' or 'closing', not '" ~ (convention | string)[:60] ~ "'"
    ) }}
{%- endif %}
with items as (
    select * from {{ ref('int_subscription_items_currency') }}
),

dated_rates as (
    select * from {{ ref('stg_crm__dated_conversion_rates') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

month_starts as (
    select cast(month as date) as month
    from {{ month_starts(
        "(select date_trunc('month', min(start_date)) from items)",
        "(select date_trunc('month', as_of_date) + interval 1 month from as_of)"
    ) }}
),

month_spine as (
    select
        month,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'month')) }} as date) as month_end
    from month_starts
),

usable_rates as (
    {{ usable_conversion_rates('dated_rates') }}
),

-- Each item in each month it is active on the first or the last day; the measured day is
-- the convention's (the first day for opening, the last for closing).
item_months as (
    select
        i.subscription_item_id,
        i.master_account_id,
        i.mrr,
        i.mrr_original,
        i.currency_iso_code,
        i.conversion_rate,
        s.month,
        {{ is_active_on('i', 's.month') }}
            as is_active_opening,
        {{ is_active_on('i', 's.month_end') }}
            as is_active_closing,
        case when {{ sql_string(convention) }} = 'closing' then s.month_end else s.month end
            as measured_day
    from items as i
    inner join month_spine as s
        on
            i.start_date <= s.month_end
            and (i.end_date is null or i.end_date >= s.month)
),

measured_items as (
    select
        *,
        case
            when {{ sql_string(convention) }} = 'closing' then is_active_closing
            else is_active_opening
        end as is_active_measured
    from item_months
    where is_active_opening or is_active_closing
),

-- The dated rate that started last on or before the measured day, for foreign items.
measured_rates as (
    select
        m.subscription_item_id,
        m.month,
        r.conversion_rate as day_rate,
        r.next_start_date is null or m.measured_day < r.next_start_date as is_in_force
    from {{ latest_started_rate_join('measured_items as m', 'm.currency_iso_code', 'm.measured_day') }}
    where m.is_active_measured and m.currency_iso_code != {{ sql_string(var("corporate_currency")) }}
),

-- At current rates: the original MRR at the rate in force on the measured day. At the
-- source's own rate, or with no rate in force that day, it is the item's MRR, so FX never
-- moves MRR without a rate change.
item_values as (
    select
        m.master_account_id,
        m.month,
        case when m.is_active_opening then m.mrr else 0 end as opening_mrr,
        case when m.is_active_closing then m.mrr else 0 end as closing_mrr,
        case
            when not m.is_active_measured then 0
            when r.is_in_force and r.day_rate != m.conversion_rate
                then cast({{ divide_round('m.mrr_original', 'r.day_rate', 2, 2, 8) }} as decimal(18, 2))
            else m.mrr
        end as mrr_at_current_rates
    from measured_items as m
    left join measured_rates as r
        on m.subscription_item_id = r.subscription_item_id and m.month = r.month
),

mrr_by_month as (
    select
        master_account_id,
        month,
        sum(opening_mrr) as opening_mrr,
        sum(closing_mrr) as closing_mrr,
        sum(mrr_at_current_rates) as mrr_at_current_rates
    from item_values
    group by master_account_id, month
),

first_months as (
    select
        master_account_id,
        min(month) as first_month
    from mrr_by_month
    where opening_mrr > 0 or closing_mrr > 0
    group by master_account_id
),

-- Every month from the customer's first month with MRR (either convention) to the as-of
-- month, zeros included, so the previous month of a reactivation is the zero it comes
-- back from.
account_months as (
    select
        f.master_account_id,
        s.month,
        coalesce(m.opening_mrr, 0) as opening_mrr,
        coalesce(m.closing_mrr, 0) as closing_mrr,
        coalesce(m.mrr_at_current_rates, 0) as mrr_at_current_rates
    from first_months as f
    inner join month_spine as s on f.first_month <= s.month
    left join mrr_by_month as m
        on f.master_account_id = m.master_account_id and s.month = m.month
),

with_mrr as (
    select
        *,
        case
            when {{ sql_string(convention) }} = 'closing' then closing_mrr else opening_mrr
        end as mrr
    from account_months
),

with_previous as (
    select
        *,
        coalesce(lag(mrr) over (partition by master_account_id order by month), 0) as previous_mrr,
        coalesce(
            lag(mrr_at_current_rates) over (partition by master_account_id order by month), 0
        ) as previous_mrr_at_current_rates,
        coalesce(
            max(mrr) over (
                partition by master_account_id order by month
                rows between unbounded preceding and 1 preceding
            ) > 0,
            false
        ) as had_mrr_before
    from with_mrr
),

classified as (
    select
        *,
        case
            when previous_mrr = 0 and mrr > 0 and not had_mrr_before then 'new'
            when previous_mrr = 0 and mrr > 0 then 'reactivation'
            when previous_mrr > 0 and mrr = 0 then 'churn'
            when mrr > previous_mrr then 'expansion'
            when mrr < previous_mrr then 'contraction'
            else 'unchanged'
        end as movement
    from with_previous
    -- A churned customer keeps its churn month and has no rows until it reactivates; a
    -- month with MRR only under the other convention (a mid-month start or end) is kept,
    -- with movement unchanged (0 to 0), so both conventions' totals are complete.
    where mrr > 0 or previous_mrr > 0 or opening_mrr > 0 or closing_mrr > 0
),

final as (
    select
        master_account_id,
        month,
        cast(mrr as decimal(18, 2)) as mrr,
        cast(previous_mrr as decimal(18, 2)) as previous_mrr,
        cast(mrr - previous_mrr as decimal(18, 2)) as mrr_change,
        cast(mrr * 12 as decimal(18, 2)) as arr,
        movement,
        cast(opening_mrr as decimal(18, 2)) as opening_mrr,
        cast(closing_mrr as decimal(18, 2)) as closing_mrr,
        cast(mrr_at_current_rates as decimal(18, 2)) as mrr_at_current_rates,
        cast(previous_mrr_at_current_rates as decimal(18, 2)) as previous_mrr_at_current_rates
    from classified
)

select * from final
