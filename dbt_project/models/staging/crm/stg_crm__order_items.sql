-- Current state of OrderItem (SPEC 4.1): its rows in the current snapshot.
with source as (
    {{ rows_in_snapshot(source('crm', 'order_item'), current_snapshot_date()) }}
),

renamed as (
    select
        Id             as order_item_id,
        OrderId        as order_id,
        Product2Id     as product_id,
        Quantity       as quantity,
        UnitPrice      as unit_price,
        ServiceDate    as service_date,
        EndDate        as end_date,
        _snapshot_date as snapshot_date
    from source
)

select * from renamed
