-- Current state of Opportunity (SPEC 4.1): its rows in the current snapshot.
with source as (
    {{ rows_in_snapshot(source('crm', 'opportunity'), current_snapshot_date()) }}
),

renamed as (
    select
        Id                               as opportunity_id,
        AccountId                        as account_id,
        Name                             as opportunity_name,
        StageName                        as stage_name,
        CloseDate                        as close_date,
        Amount                           as amount,
        Probability                      as probability,
        ForecastCategoryName             as forecast_category,
        IsClosed                         as is_closed,
        IsWon                            as is_won,
        Type                             as type,
        OwnerId                          as owner_id,
        CurrencyIsoCode                  as currency_iso_code,
        CreatedDate                      as created_date,
        Create_Potential_Subscription__c as create_potential_subscription,
        Use_Case__c                      as use_case,
        Start_Date__c                    as start_date,
        Term_Months__c                   as term_months,
        _snapshot_date                   as snapshot_date
    from source
)

select * from renamed
