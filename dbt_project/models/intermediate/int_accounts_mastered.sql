-- Every account (deleted ones too, so merged records still resolve) mapped to its master
-- account, the customer every customer-level figure is computed for (SPEC 4.2).
with accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

-- A merged account belongs to its MasterRecordId; follow a merge chain up to three links.
merge_resolved as (
    select
        a.account_id,
        coalesce(m3.account_id, m2.account_id, m1.account_id, a.account_id) as merged_into_id
    from accounts as a
    left join accounts as m1 on a.master_record_id = m1.account_id
    left join accounts as m2 on m1.master_record_id = m2.account_id
    left join accounts as m3 on m2.master_record_id = m3.account_id
),

keyed as (
    select
        a.account_id,
        a.account_name,
        a.created_date,
        coalesce(a.is_deleted, false) as is_deleted,
        r.merged_into_id,
        {{ normalized_domain('a.website') }} as website_domain,
        {{ normalized_company_name('a.account_name') }} as normalized_name
    from accounts as a
    inner join merge_resolved as r on a.account_id = r.account_id
),

-- The group of a merged account is the group of the account it was merged into.
grouped as (
    select
        k.*,
        coalesce(
            'domain:' || target.website_domain,
            'name:' || target.normalized_name,
            'id:' || target.account_id
        ) as customer_key
    from keyed as k
    inner join keyed as target on k.merged_into_id = target.account_id
),

-- The master is the earliest created live account of the group (ties: lowest Id);
-- a group of deleted accounts only keeps its earliest one.
masters as (
    select
        customer_key,
        arg_min(account_id, (is_deleted, created_date, account_id)) as master_account_id
    from grouped
    group by customer_key
),

final as (
    select
        g.account_id,
        m.master_account_id,
        g.account_name,
        g.customer_key,
        g.website_domain,
        g.normalized_name,
        g.is_deleted,
        g.account_id = m.master_account_id as is_master
    from grouped as g
    inner join masters as m on g.customer_key = m.customer_key
)

select * from final
