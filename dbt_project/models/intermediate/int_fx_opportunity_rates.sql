-- The conversion rate of each opportunity (SPEC 4.3): the DatedConversionRate of its
-- currency in force on its CloseDate (StartDate <= CloseDate < NextStartDate), 1 for the
-- corporate currency. A foreign currency without a rate in force falls back to its
-- nearest rate and is flagged; one without any rate is taken at 1 and flagged.
with opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

dated_rates as (
    select * from {{ ref('stg_crm__dated_conversion_rates') }}
),

usable_rates as (
    {{ usable_conversion_rates('dated_rates') }}
),

opportunity_currencies as (
    select
        opportunity_id,
        close_date,
        coalesce(
            upper(nullif(trim(currency_iso_code), '')), {{ sql_string(var("corporate_currency")) }}
        ) as currency_iso_code
    from opportunities
),

foreign_opportunities as (
    select * from opportunity_currencies
    where currency_iso_code != {{ sql_string(var("corporate_currency")) }}
),

-- The period that started last on or before the close date (in force unless it ended).
latest_started_rates as (
    select
        f.opportunity_id,
        r.conversion_rate,
        r.start_date,
        r.next_start_date is null or f.close_date < r.next_start_date as is_in_force
    from {{ latest_started_rate_join('foreign_opportunities as f', 'f.currency_iso_code', 'f.close_date') }}
),

-- For a close date before a currency's first period: that first period.
earliest_rates as (
    select
        currency_iso_code,
        {{ value_at_min('conversion_rate', 'start_date') }} as conversion_rate,
        min(start_date) as start_date
    from usable_rates
    group by currency_iso_code
),

final as (
    select
        c.opportunity_id,
        c.currency_iso_code,
        cast(
            case
                when f.opportunity_id is null then 1
                else coalesce(l.conversion_rate, e.conversion_rate, 1)
            end
            as decimal(18, 8)
        ) as conversion_rate,
        case
            when f.opportunity_id is null then 'corporate'
            when l.is_in_force then 'in_force'
            when l.opportunity_id is not null then 'latest_before_close'
            when e.currency_iso_code is not null then 'earliest_after_close'
            else 'missing'
        end as conversion_rate_source,
        coalesce(f.opportunity_id is not null and not coalesce(l.is_in_force, false), false)
            as is_fx_rate_missing,
        case when f.opportunity_id is not null then coalesce(l.start_date, e.start_date) end
            as conversion_rate_start_date
    from opportunity_currencies as c
    left join foreign_opportunities as f on c.opportunity_id = f.opportunity_id
    left join latest_started_rates as l on c.opportunity_id = l.opportunity_id
    left join earliest_rates as e on f.currency_iso_code = e.currency_iso_code
)

select * from final
