-- The trailing-twelve-month gross renewal rate (SPEC 4.13) overall and by product family:
-- ARR renewed / ARR up for renewal over the subscriptions that ended in the twelve months
-- before as-of. A subscription's ARR up for renewal is its items active on its end date;
-- per product family, the renewed part is the customer's ARR of that family on the day
-- after the end in items of other subscriptions that started after this one (its upgrade,
-- or the subscription its renewal built), capped at the ARR up for renewal (gross).
-- A family with fewer than 10 such renewals takes the overall rate.
{%- set min_family_renewals = 10 %}
with subscriptions as (
    select * from {{ ref('fct_subscriptions') }}
),

items as (
    select * from {{ ref('int_subscription_items_currency') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

ended as (
    select
        s.subscription_id,
        s.master_account_id,
        s.start_date,
        s.end_date
    from subscriptions as s
    cross join as_of as a
    where
        s.end_date < a.as_of_date
        and s.end_date >= cast({{ dbt.dateadd('month', -12, 'a.as_of_date') }} as date)
),

up_for_renewal as (
    select
        e.subscription_id,
        e.master_account_id,
        e.start_date,
        e.end_date,
        coalesce(i.product_family, '') as product_family,
        sum(i.arr) as arr_up_for_renewal
    from ended as e
    inner join items as i
        on
            e.subscription_id = i.subscription_id
            and {{ is_active_on('i', 'e.end_date') }}
    group by e.subscription_id, e.master_account_id, e.start_date, e.end_date, i.product_family
),

continued as (
    select
        u.subscription_id,
        u.product_family,
        sum(i.arr) as arr_after
    from up_for_renewal as u
    inner join items as i
        on
            u.master_account_id = i.master_account_id
            and u.product_family = coalesce(i.product_family, '')
            and u.subscription_id != i.subscription_id
            and u.start_date < i.start_date
            and cast({{ dbt.dateadd('day', 1, 'u.end_date') }} as date) >= i.start_date
            and (
                i.end_date is null
                or cast({{ dbt.dateadd('day', 1, 'u.end_date') }} as date) <= i.end_date
            )
    group by u.subscription_id, u.product_family
),

renewals as (
    select
        u.subscription_id,
        u.product_family,
        u.arr_up_for_renewal,
        least(coalesce(c.arr_after, 0), u.arr_up_for_renewal) as arr_renewed
    from up_for_renewal as u
    left join continued as c
        on u.subscription_id = c.subscription_id and u.product_family = c.product_family
    where u.arr_up_for_renewal > 0
),

overall as (
    select
        count(distinct subscription_id) as renewal_count,
        sum(arr_up_for_renewal) as arr_up_for_renewal,
        sum(arr_renewed) as arr_renewed
    from renewals
),

by_family as (
    select
        product_family,
        count(*) as renewal_count,
        sum(arr_up_for_renewal) as arr_up_for_renewal,
        sum(arr_renewed) as arr_renewed
    from renewals
    group by product_family
),

rates as (
    select
        f.product_family,
        f.renewal_count,
        f.arr_up_for_renewal,
        f.arr_renewed,
        {{ divide_round('f.arr_renewed', 'f.arr_up_for_renewal', 6, 2, 2) }} as family_rate,
        {{ divide_round('o.arr_renewed', 'o.arr_up_for_renewal', 6, 2, 2) }} as overall_rate
    from by_family as f
    cross join overall as o
),

final as (
    select
        nullif(product_family, '') as product_family,
        cast(renewal_count as integer) as renewal_count,
        cast(arr_up_for_renewal as decimal(18, 2)) as arr_up_for_renewal,
        cast(arr_renewed as decimal(18, 2)) as arr_renewed,
        cast(family_rate as decimal(9, 6)) as family_rate,
        cast(overall_rate as decimal(9, 6)) as overall_rate,
        renewal_count >= {{ min_family_renewals }} as uses_family_rate,
        cast(
            case when renewal_count >= {{ min_family_renewals }} then family_rate else overall_rate end
            as decimal(9, 6)
        ) as renewal_rate
    from rates
    union all
    -- The overall rate, for families without any renewal in the window (product_family '*').
    select
        '*' as product_family,
        cast(renewal_count as integer) as renewal_count,
        cast(arr_up_for_renewal as decimal(18, 2)) as arr_up_for_renewal,
        cast(arr_renewed as decimal(18, 2)) as arr_renewed,
        cast({{ divide_round('arr_renewed', 'arr_up_for_renewal', 6, 2, 2) }} as decimal(9, 6))
            as family_rate,
        cast({{ divide_round('arr_renewed', 'arr_up_for_renewal', 6, 2, 2) }} as decimal(9, 6))
            as overall_rate,
        false as uses_family_rate,
        cast({{ divide_round('arr_renewed', 'arr_up_for_renewal', 6, 2, 2) }} as decimal(9, 6))
            as renewal_rate
    from overall
)

select * from final
