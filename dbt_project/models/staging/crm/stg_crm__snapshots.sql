-- Every snapshot folder the ingest found (SPEC 3), the calendar of the warehouse's history.
-- Outside staging the as-of macros (macros/as_of.sql) read it instead of the source.
with source as (
    select * from {{ source('crm', 'snapshots') }}
),

renamed as (
    select
        snapshot_date,
        folder,
        found_at
    from source
)

select * from renamed
