-- Current state of User (SPEC 4.1): its rows in the current snapshot.
with source as (
    {{ rows_in_snapshot(source('crm', 'user'), current_snapshot_date()) }}
),

renamed as (
    select
        Id             as user_id,
        Name           as user_name,
        IsActive       as is_active,
        _snapshot_date as snapshot_date
    from source
)

select * from renamed
