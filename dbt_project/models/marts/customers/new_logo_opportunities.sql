-- Nextian's "New Account / Logo" list view of opportunities (SPEC 4.6): those flagged now.
with opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

final as (
    select
        opportunity_id,
        account_id,
        master_account_id,
        opportunity_name,
        opportunity_type,
        owner_id,
        stage_name,
        close_date,
        forecast_category,
        is_won,
        is_closed,
        created_date,
        amount,
        mrr,
        arr,
        tcv,
        is_new_logo,
        is_new_logo_original
    from opportunities
    where is_new_logo
)

select * from final
