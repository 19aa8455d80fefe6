-- Nextian's "New Account / Logo" list view of quotes (SPEC 4.6): quotes of opportunities flagged now.
with quotes as (
    select * from {{ ref('fct_quotes') }}
),

final as (
    select
        quote_id,
        opportunity_id,
        account_id,
        master_account_id,
        status,
        is_syncing,
        expiration_date,
        created_date,
        grand_total,
        is_new_logo,
        is_new_logo_original
    from quotes
    where is_new_logo
)

select * from final
