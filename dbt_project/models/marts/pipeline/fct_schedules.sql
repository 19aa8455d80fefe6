-- Quantity and revenue schedules of opportunity lines, one row per installment (SPEC 4.4):
-- explicit OpportunityLineItemSchedule rows where a line has them for a type, else the
-- product's default schedule exploded set-based from int_schedules_planned. Lines listed
-- in schedule_errors get no rows.
with plans as (
    select * from {{ ref('int_schedules_planned') }}
    where not has_schedule_error
),

explicit_rows as (
    select * from {{ ref('int_schedules_explicit') }}
),

quantity_installments as (
    select
        line_item_id,
        opportunity_id,
        schedule_start_date,
        quantity_installment_period,
        quantity_installments,
        quantity_installment_amount,
        scheduled_quantity,
        {{ installment_indexes('quantity_installments') }} as installment_index
    from plans
    where quantity_schedule_source = 'generated'
),

revenue_installments as (
    select
        line_item_id,
        opportunity_id,
        currency_iso_code,
        schedule_start_date,
        revenue_installment_period,
        revenue_installments,
        revenue_installment_amount,
        revenue_installment_amount_original,
        scheduled_revenue,
        scheduled_revenue_original,
        {{ installment_indexes('revenue_installments') }} as installment_index
    from plans
    where revenue_schedule_source = 'generated'
),

-- Every installment gets the rounded amount; the last one the remainder, so a schedule
-- sums exactly to its total (for Repeat the remainder is the amount itself).
generated_quantity_rows as (
    select
        line_item_id,
        opportunity_id,
        'quantity' as schedule_type,
        installment_index + 1 as installment_number,
        {{ installment_date('schedule_start_date', 'quantity_installment_period', 'installment_index') }}
            as schedule_date,
        case
            when installment_index = quantity_installments - 1
                then
                    scheduled_quantity
                    - cast(quantity_installment_amount as decimal(38, 4)) * (quantity_installments - 1)
            else quantity_installment_amount
        end as quantity,
        cast(null as decimal(18, 2)) as revenue,
        cast(null as decimal(18, 2)) as revenue_original,
        cast(null as {{ dbt.type_string() }}) as currency_iso_code,
        true as is_generated,
        cast(null as {{ dbt.type_string() }}) as source_schedule_id
    from quantity_installments
),

generated_revenue_rows as (
    select
        line_item_id,
        opportunity_id,
        'revenue' as schedule_type,
        installment_index + 1 as installment_number,
        {{ installment_date('schedule_start_date', 'revenue_installment_period', 'installment_index') }}
            as schedule_date,
        cast(null as decimal(18, 4)) as quantity,
        case
            when installment_index = revenue_installments - 1
                then
                    scheduled_revenue
                    - cast(revenue_installment_amount as decimal(38, 2)) * (revenue_installments - 1)
            else revenue_installment_amount
        end as revenue,
        case
            when installment_index = revenue_installments - 1
                then
                    scheduled_revenue_original
                    - cast(revenue_installment_amount_original as decimal(38, 2)) * (revenue_installments - 1)
            else revenue_installment_amount_original
        end as revenue_original,
        currency_iso_code,
        true as is_generated,
        cast(null as {{ dbt.type_string() }}) as source_schedule_id
    from revenue_installments
),

entered_rows as (
    select
        e.line_item_id,
        e.opportunity_id,
        e.schedule_type,
        e.installment_number,
        e.schedule_date,
        e.quantity,
        e.revenue,
        e.revenue_original,
        case when e.schedule_type = 'revenue' then e.currency_iso_code end as currency_iso_code,
        false as is_generated,
        e.schedule_id as source_schedule_id
    from explicit_rows as e
    -- Explicit rows always win for their type; the join only drops lines in error.
    inner join plans as p on e.line_item_id = p.line_item_id
),

all_rows as (
    select * from generated_quantity_rows
    union all
    select * from generated_revenue_rows
    union all
    select * from entered_rows
),

final as (
    select
        line_item_id,
        opportunity_id,
        schedule_type,
        cast(installment_number as integer) as installment_number,
        schedule_date,
        cast(quantity as decimal(18, 4)) as quantity,
        cast(revenue as decimal(18, 2)) as revenue,
        cast(revenue_original as decimal(18, 2)) as revenue_original,
        currency_iso_code,
        is_generated,
        source_schedule_id
    from all_rows
)

select * from final
