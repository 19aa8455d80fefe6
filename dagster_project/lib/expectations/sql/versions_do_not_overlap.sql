-- An order number's item versions follow one another: an overlap counts MRR twice.
with versions as (
    select
        subscription_item_id,
        subscription_id,
        order_no,
        start_date,
        end_date,
        lead(subscription_item_id) over by_start as next_item_id,
        lead(start_date) over by_start as next_start_date
    from marts.fct_subscription_items
    -- An empty version (end = start - 1: replaced before it began) holds no day at all.
    where end_date is null or end_date >= start_date
    window by_start as (
        partition by subscription_id, order_no
        order by start_date, end_date nulls last, subscription_item_id
    )
),

all_items as (
    select
        v.*,
        -- >= 1: the next version starts after this one ended (open end = never ends)
        -- (date - date: a day count on DuckDB, an interval of days on Spark; as bigint both)
        cast(next_start_date - coalesce(end_date, date '9999-12-31') as bigint) as gap_days,
        cast(null as bigint) as length_days
    from versions as v
    union all
    select
        subscription_item_id, subscription_id, order_no, start_date, end_date,
        null, null, null,
        -- >= 0: an item ends at the earliest the day before it starts (an empty version)
        cast(end_date - start_date as bigint) + 1 as length_days
    from marts.fct_subscription_items
    where end_date < start_date
)

select *
from all_items
order by least(coalesce(gap_days, 1e12), coalesce(length_days, 1e12)), subscription_item_id
limit {limit}
