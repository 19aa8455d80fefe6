-- Schedule rows entered on opportunity lines (OpportunityLineItemSchedule), one row per
-- line x schedule type x installment (SPEC 4.4): a Type 'Both' row counts as a quantity
-- row and as a revenue row. Revenue is converted row by row to corporate currency at the
-- opportunity's rate; a line's explicit revenue total is the sum of these rows. Rows of
-- any other Type are left out here and reported by int_schedules_planned.
with schedule_rows as (
    select * from {{ ref('stg_crm__opportunity_line_item_schedules') }}
),

line_items as (
    select * from {{ ref('int_line_items_priced') }}
),

typed as (
    select
        s.schedule_id,
        s.line_item_id,
        li.opportunity_id,
        lower(trim(s.type)) as row_type,
        s.schedule_date,
        s.quantity,
        cast(round(s.revenue, 2) as decimal(18, 2)) as revenue_original,
        li.currency_iso_code,
        li.conversion_rate
    from schedule_rows as s
    inner join line_items as li on s.line_item_id = li.line_item_id
),

by_schedule_type as (
    select
        schedule_id,
        line_item_id,
        opportunity_id,
        'quantity' as schedule_type,
        schedule_date,
        coalesce(quantity, 0) as quantity,
        cast(null as decimal(18, 2)) as revenue_original,
        currency_iso_code,
        conversion_rate
    from typed
    where row_type in ('quantity', 'both')

    union all

    select
        schedule_id,
        line_item_id,
        opportunity_id,
        'revenue' as schedule_type,
        schedule_date,
        cast(null as decimal(18, 4)) as quantity,
        coalesce(revenue_original, 0) as revenue_original,
        currency_iso_code,
        conversion_rate
    from typed
    where row_type in ('revenue', 'both')
),

final as (
    select
        schedule_id,
        line_item_id,
        opportunity_id,
        schedule_type,
        cast(
            row_number()
                over (
                    partition by line_item_id, schedule_type order by schedule_date, schedule_id
                )
            as integer
        ) as installment_number,
        schedule_date,
        cast(quantity as decimal(18, 4)) as quantity,
        cast({{ divide_round('revenue_original', 'conversion_rate', 2, 2, 8) }} as decimal(18, 2))
            as revenue,
        revenue_original,
        currency_iso_code
    from by_schedule_type
)

select * from final
