-- Current state of OpportunitySplitType (SPEC 4.1): its rows in the current snapshot.
with source as (
    {{ rows_in_snapshot(source('crm', 'opportunity_split_type'), current_snapshot_date()) }}
),

renamed as (
    select
        Id               as split_type_id,
        DeveloperName    as developer_name,
        SplitField       as split_field,
        IsTotalValidated as is_total_validated,
        _snapshot_date   as snapshot_date
    from source
)

select * from renamed
