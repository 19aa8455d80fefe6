-- One row per opportunity line: what its quantity and revenue schedules are (SPEC 4.4),
-- before they are exploded into installments by fct_schedules. Explicit schedule rows
-- win per type; otherwise the product's default schedule applies. Carries the per-
-- installment amounts (Divide rounds to cents, quantities to 2 decimals; the last
-- installment takes the remainder), the schedule totals, the revenue term and, for a
-- line whose schedule Salesforce would refuse, the reason (the line then gets no rows).
with line_items as (
    select * from {{ ref('int_line_items_priced') }}
),

explicit_rows as (
    select * from {{ ref('int_schedules_explicit') }}
),

schedule_rows as (
    select * from {{ ref('stg_crm__opportunity_line_item_schedules') }}
),

explicit_totals as (
    select
        line_item_id,
        count(case when schedule_type = 'quantity' then 1 end) as quantity_rows,
        sum(case when schedule_type = 'quantity' then quantity end) as quantity_total,
        count(case when schedule_type = 'revenue' then 1 end) as revenue_rows,
        sum(case when schedule_type = 'revenue' then revenue_original end) as revenue_total_original,
        sum(case when schedule_type = 'revenue' then revenue end) as revenue_total
    from explicit_rows
    group by line_item_id
),

unknown_row_types as (
    select
        line_item_id,
        count(*) as row_count,
        min(coalesce(type, '')) as row_type
    from schedule_rows
    where lower(trim(coalesce(type, ''))) not in ('quantity', 'revenue', 'both')
    group by line_item_id
),

-- Which schedule each type follows: explicit rows, else the product's default.
sources as (
    select
        li.*,
        case
            when coalesce(e.quantity_rows, 0) > 0 then 'explicit'
            when li.has_default_quantity_schedule then 'generated'
        end as quantity_schedule_source,
        case
            when coalesce(e.revenue_rows, 0) > 0 then 'explicit'
            when li.has_default_revenue_schedule then 'generated'
        end as revenue_schedule_source,
        e.quantity_rows as explicit_quantity_rows,
        e.quantity_total as explicit_quantity_total,
        e.revenue_rows as explicit_revenue_rows,
        e.revenue_total_original as explicit_revenue_total_original,
        e.revenue_total as explicit_revenue_total,
        u.row_count as unknown_type_row_count,
        u.row_type as unknown_row_type
    from line_items as li
    left join explicit_totals as e on li.line_item_id = e.line_item_id
    left join unknown_row_types as u on li.line_item_id = u.line_item_id
),

definitions as (
    select
        *,
        case quantity_schedule_source
            when 'explicit' then explicit_quantity_rows
            when 'generated' then default_quantity_installments
        end as quantity_installments,
        case quantity_schedule_source when 'generated' then default_quantity_schedule_type end
            as quantity_schedule_type,
        case quantity_schedule_source when 'generated' then default_quantity_installment_period end
            as quantity_installment_period,
        case revenue_schedule_source
            when 'explicit' then explicit_revenue_rows
            when 'generated' then default_revenue_installments
        end as revenue_installments,
        case revenue_schedule_source when 'generated' then default_revenue_schedule_type end
            as revenue_schedule_type,
        -- Explicit rows carry their own dates; their period (for the term) is the
        -- product's revenue period, else Monthly (SPEC 4.5).
        case revenue_schedule_source
            when 'generated' then default_revenue_installment_period
            when 'explicit' then
                case
                    when
                        default_revenue_installment_period
                        in ('Daily', 'Weekly', 'Monthly', 'Quarterly', 'Yearly')
                        then default_revenue_installment_period
                    else 'Monthly'
                end
        end as revenue_installment_period
    from sources
),

validated as (
    select
        *,
        {% for type in ['quantity', 'revenue'] %}
            case
                when {{ type }}_schedule_source = 'explicit' and {{ type }}_installments > 150
                    then
                        cast({{ type }}_installments as {{ dbt.type_string() }})
                        || ' {{ type }} schedule rows; Salesforce allows 1 to 150 installments'
                when coalesce({{ type }}_schedule_source, '') != 'generated' then null
                when {{ type }}_schedule_type not in ('Divide', 'Repeat')
                    then
                        '{{ type }} schedule type ''' || {{ type }}_schedule_type
                        || ''' is not Divide or Repeat'
                when {{ type }}_installments is null
                    then 'no number of {{ type }} installments on the product; Salesforce allows 1 to 150'
                when {{ type }}_installments not between 1 and 150
                    then
                        cast({{ type }}_installments as {{ dbt.type_string() }})
                        || ' {{ type }} installments; Salesforce allows 1 to 150'
                when {{ type }}_installment_period is null
                    then 'no {{ type }} installment period on the product'
                when
                    {{ type }}_installment_period
                    not in ('Daily', 'Weekly', 'Monthly', 'Quarterly', 'Yearly')
                    then
                        '{{ type }} installment period ''' || {{ type }}_installment_period
                        || ''' is not Daily, Weekly, Monthly, Quarterly or Yearly'
            end as {{ type }}_schedule_error,
        {% endfor %}
        case
            when unknown_type_row_count > 0
                then
                    cast(unknown_type_row_count as {{ dbt.type_string() }}) || ' schedule rows of Type '''
                    || unknown_row_type || '''; expected Quantity, Revenue or Both'
        end as row_type_error
    from definitions
),

quantity_amounts as (
    select
        *,
        quantity_schedule_error is null
        and revenue_schedule_error is null
        and row_type_error is null as is_schedulable,
        case
            when quantity_schedule_error is not null then null
            when quantity_schedule_source = 'explicit' then explicit_quantity_total
            when quantity_schedule_type = 'Divide' then quantity
            when quantity_schedule_type = 'Repeat'
                then cast(quantity as decimal(38, 4)) * quantity_installments
        end as scheduled_quantity,
        case
            when quantity_schedule_error is not null then null
            when quantity_schedule_type = 'Divide'
                then {{ divide_round('quantity', 'quantity_installments', 2, 4, 0) }}
            when quantity_schedule_type = 'Repeat' then quantity
        end as quantity_installment_amount
    from validated
),

-- The revenue a revenue schedule spreads: the quantity schedule's total quantity (else
-- the line quantity) x net unit price, rounded once to cents, then converted.
revenue_bases as (
    select
        *,
        cast(
            round(cast(coalesce(scheduled_quantity, quantity) as decimal(38, 4)) * net_unit_price_original, 2)
            as decimal(18, 2)
        ) as revenue_base_original
    from quantity_amounts
),

revenue_amounts as (
    select
        *,
        cast({{ divide_round('revenue_base_original', 'conversion_rate', 2, 2, 8) }} as decimal(18, 2))
            as revenue_base
    from revenue_bases
),

revenue_installments as (
    select
        *,
        case
            when revenue_schedule_error is not null then null
            when revenue_schedule_type = 'Divide'
                then {{ divide_round('revenue_base_original', 'revenue_installments', 2, 2, 0) }}
            when revenue_schedule_type = 'Repeat' then revenue_base_original
        end as revenue_installment_amount_original,
        case
            when revenue_schedule_error is not null then null
            when revenue_schedule_type = 'Divide'
                then {{ divide_round('revenue_base', 'revenue_installments', 2, 2, 0) }}
            when revenue_schedule_type = 'Repeat' then revenue_base
        end as revenue_installment_amount,
        case
            when revenue_schedule_error is not null then null
            when revenue_schedule_source = 'explicit' then explicit_revenue_total_original
            when revenue_schedule_type = 'Divide' then revenue_base_original
            when revenue_schedule_type = 'Repeat'
                then cast(revenue_base_original as decimal(38, 2)) * revenue_installments
        end as scheduled_revenue_original,
        case
            when revenue_schedule_error is not null then null
            when revenue_schedule_source = 'explicit' then explicit_revenue_total
            when revenue_schedule_type = 'Divide' then revenue_base
            when revenue_schedule_type = 'Repeat'
                then cast(revenue_base as decimal(38, 2)) * revenue_installments
        end as scheduled_revenue,
        -- Months per installment as a fraction (Daily 12/365, Weekly 12/52, Monthly 1,
        -- Quarterly 3, Yearly 12) so MRR can divide exactly.
        case revenue_installment_period
            when 'Daily' then 12
            when 'Weekly' then 12
            when 'Monthly' then 1
            when 'Quarterly' then 3
            when 'Yearly' then 12
        end * revenue_installments as revenue_term_months_numerator,
        case revenue_installment_period
            when 'Daily' then 365
            when 'Weekly' then 52
            else 1
        end as revenue_term_months_denominator
    from revenue_amounts
),

final as (
    select
        line_item_id,
        opportunity_id,
        product_id,
        schedule_start_date,
        currency_iso_code,
        conversion_rate,
        quantity,
        net_unit_price_original,
        quantity_schedule_source,
        quantity_schedule_type,
        quantity_installment_period,
        cast(quantity_installments as integer) as quantity_installments,
        cast(quantity_installment_amount as decimal(18, 4)) as quantity_installment_amount,
        cast(scheduled_quantity as decimal(18, 4)) as scheduled_quantity,
        revenue_base_original,
        revenue_base,
        revenue_schedule_source,
        revenue_schedule_type,
        revenue_installment_period,
        cast(revenue_installments as integer) as revenue_installments,
        cast(revenue_installment_amount_original as decimal(18, 2))
            as revenue_installment_amount_original,
        cast(revenue_installment_amount as decimal(18, 2)) as revenue_installment_amount,
        cast(scheduled_revenue_original as decimal(18, 2)) as scheduled_revenue_original,
        cast(scheduled_revenue as decimal(18, 2)) as scheduled_revenue,
        case when revenue_schedule_error is null then revenue_term_months_numerator end
            as revenue_term_months_numerator,
        case when revenue_schedule_error is null then revenue_term_months_denominator end
            as revenue_term_months_denominator,
        not is_schedulable as has_schedule_error,
        nullif(concat_ws('; ', quantity_schedule_error, revenue_schedule_error, row_type_error), '')
            as schedule_error_message
    from revenue_installments
)

select * from final
