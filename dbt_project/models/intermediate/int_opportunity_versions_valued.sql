-- Every version of every opportunity (fct_opportunity_history) valued in corporate
-- currency, the input of the pipeline's history (SPEC 4.12). A version's amount is
-- converted at its currency's rate in force on that version's CloseDate, with the same
-- fallbacks as int_fx_opportunity_rates (nearest rate, else 1). MRR is the opportunity's
-- MRR in the current snapshot (its lines are not versioned): a deleted opportunity has 0.
with history as (
    select * from {{ ref('fct_opportunity_history') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

dated_rates as (
    select * from {{ ref('stg_crm__dated_conversion_rates') }}
),

usable_rates as (
    {{ usable_conversion_rates('dated_rates') }}
),

versions as (
    select
        h.*,
        coalesce(
            upper(nullif(trim(h.currency_iso_code), '')),
            {{ sql_string(var("corporate_currency")) }}
        ) as currency_code
    from history as h
),

foreign_versions as (
    select
        opportunity_id,
        version_number,
        currency_code,
        close_date
    from versions
    where currency_code != {{ sql_string(var("corporate_currency")) }}
),

latest_started_rates as (
    select
        f.opportunity_id,
        f.version_number,
        r.conversion_rate
    from {{ latest_started_rate_join('foreign_versions as f', 'f.currency_code', 'f.close_date') }}
),

earliest_rates as (
    select
        currency_iso_code,
        {{ value_at_min('conversion_rate', 'start_date') }} as conversion_rate
    from usable_rates
    group by currency_iso_code
),

rated as (
    select
        v.*,
        cast(
            case
                when f.opportunity_id is null then 1
                else coalesce(l.conversion_rate, e.conversion_rate, 1)
            end
            as decimal(18, 8)
        ) as conversion_rate
    from versions as v
    left join foreign_versions as f
        on v.opportunity_id = f.opportunity_id and v.version_number = f.version_number
    left join latest_started_rates as l
        on v.opportunity_id = l.opportunity_id and v.version_number = l.version_number
    left join earliest_rates as e on f.currency_code = e.currency_iso_code
),

final as (
    select
        r.opportunity_id,
        r.version_number,
        r.valid_from,
        r.valid_to,
        r.close_date,
        cast({{ dbt.date_trunc('month', 'r.close_date') }} as date) as close_month,
        {{ forecast_category_label('r.forecast_category') }} as forecast_category,
        r.probability,
        coalesce(r.is_closed, false) as is_closed,
        coalesce(r.is_won, false) as is_won,
        r.owner_id,
        -- A key column for joins and as-of joins (equality never matches null).
        coalesce(r.owner_id, '') as owner_key,
        cast(
            {{ divide_round('coalesce(r.amount, 0)', 'r.conversion_rate', 2, 2, 8) }}
            as decimal(18, 2)
        ) as amount,
        cast(coalesce(o.mrr, 0) as decimal(18, 2)) as mrr
    from rated as r
    left join opportunities as o on r.opportunity_id = o.opportunity_id
)

select * from final
