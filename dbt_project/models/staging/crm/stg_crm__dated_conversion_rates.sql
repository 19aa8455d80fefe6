-- Current state of DatedConversionRate (SPEC 4.1): its rows in the current snapshot.
with source as (
    {{ rows_in_snapshot(source('crm', 'dated_conversion_rate'), current_snapshot_date()) }}
),

renamed as (
    select
        IsoCode        as iso_code,
        ConversionRate as conversion_rate,
        StartDate      as start_date,
        NextStartDate  as next_start_date,
        _snapshot_date as snapshot_date
    from source
)

select * from renamed
