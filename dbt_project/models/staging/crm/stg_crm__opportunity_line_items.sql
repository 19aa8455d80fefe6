-- Current state of OpportunityLineItem (SPEC 4.1): its rows in the current snapshot.
with source as (
    {{ rows_in_snapshot(source('crm', 'opportunity_line_item'), current_snapshot_date()) }}
),

renamed as (
    select
        Id                      as line_item_id,
        OpportunityId           as opportunity_id,
        Product2Id              as product_id,
        Quantity                as quantity,
        UnitPrice               as unit_price,
        Discount                as discount_percent,
        TotalPrice              as total_price,
        ServiceDate             as service_date,
        Order_No__c             as order_no,
        Exclude_From_Upgrade__c as is_excluded_from_upgrade,
        _snapshot_date          as snapshot_date
    from source
)

select * from renamed
