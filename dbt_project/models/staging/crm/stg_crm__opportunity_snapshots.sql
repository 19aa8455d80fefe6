-- Every snapshot's Opportunity rows up to the as-of date: the input of the history (SPEC 4.1)
-- and of "new since the previous snapshot" in fct_potential_subscriptions (SPEC 4.7).
-- The currency values each version of the history in corporate currency (SPEC 4.12).
with source as (
    {{ rows_in_every_snapshot(source('crm', 'opportunity')) }}
),

renamed as (
    select
        Id                               as opportunity_id,
        AccountId                        as account_id,
        StageName                        as stage_name,
        CloseDate                        as close_date,
        Amount                           as amount,
        Probability                      as probability,
        ForecastCategoryName             as forecast_category,
        IsClosed                         as is_closed,
        IsWon                            as is_won,
        OwnerId                          as owner_id,
        CurrencyIsoCode                  as currency_iso_code,
        Create_Potential_Subscription__c as create_potential_subscription,
        _snapshot_date                   as snapshot_date
    from source
)

select * from renamed
