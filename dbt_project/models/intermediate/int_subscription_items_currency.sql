-- Each subscription item with its source line's currency, conversion rate and
-- original-currency MRR (SPEC 4.13): what MRR at current rates converts again.
with items as (
    select * from {{ ref('fct_subscription_items') }}
),

line_items as (
    select * from {{ ref('fct_line_items') }}
),

final as (
    select
        i.subscription_item_id,
        i.master_account_id,
        i.product_id,
        i.quantity,
        i.mrr,
        i.start_date,
        i.end_date,
        coalesce(l.currency_iso_code, {{ sql_string(var("corporate_currency")) }})
            as currency_iso_code,
        coalesce(l.conversion_rate, 1) as conversion_rate,
        -- An item without its line (none today) keeps its corporate MRR at every rate.
        coalesce(l.mrr_original, i.mrr) as mrr_original
    from items as i
    left join line_items as l on i.source_line_item_id = l.line_item_id
)

select * from final
