-- Current state of Product2 (SPEC 4.1): its rows in the current snapshot.
with source as (
    {{ rows_in_snapshot(source('crm', 'product2'), current_snapshot_date()) }}
),

renamed as (
    select
        Id                           as product_id,
        Name                         as product_name,
        ProductCode                  as product_code,
        Family                       as family,
        IsActive                     as is_active,
        Charge_Type__c               as charge_type,
        CanUseQuantitySchedule       as can_use_quantity_schedule,
        QuantityScheduleType         as quantity_schedule_type,
        QuantityInstallmentPeriod    as quantity_installment_period,
        NumberOfQuantityInstallments as number_of_quantity_installments,
        CanUseRevenueSchedule        as can_use_revenue_schedule,
        RevenueScheduleType          as revenue_schedule_type,
        RevenueInstallmentPeriod     as revenue_installment_period,
        NumberOfRevenueInstallments  as number_of_revenue_installments,
        Exclude_From_Upgrade__c      as is_excluded_from_upgrade,
        _snapshot_date               as snapshot_date
    from source
)

select * from renamed
