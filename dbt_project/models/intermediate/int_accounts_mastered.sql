-- Every account (deleted ones too, so merged records still resolve) mapped to its master
-- account, the customer every customer-level figure is computed for (SPEC 4.2).
with recursive accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

-- A merged account belongs to its MasterRecordId, followed through any number of merges.
merge_links as (
    select
        a.account_id,
        a.master_record_id as merged_into_id
    from accounts as a
    inner join accounts as m on a.master_record_id = m.account_id
    where a.master_record_id <> a.account_id
),

-- Every account walks its merge chain; a walk stops before an account it already passed.
merge_walks as (
    select
        account_id,
        {{ merge_path_start('account_id') }} as path
    from accounts
    union all
    select
        w.account_id,
        {{ merge_path_extended('w.path', 'l.merged_into_id') }} as path
    from merge_walks as w
    inner join merge_links as l on {{ merge_path_end('w.path') }} = l.account_id
    where not {{ merge_path_contains('w.path', 'l.merged_into_id') }}
),

walk_ends as (
    select
        account_id,
        {{ value_at_max('path', merge_path_length('path')) }} as path
    from merge_walks
    group by account_id
),

-- A walk ends at an account merged into nothing, or in a cycle of merges (A into B, B
-- into A): the whole cycle is one customer, keyed by its lowest Id.
merge_resolved as (
    select
        e.account_id,
        l.account_id is not null as is_merge_cycle,
        case
            when l.account_id is null then {{ merge_path_end('e.path') }}
            else {{ merge_cycle_lowest_id('e.path', 'l.merged_into_id') }}
        end as merged_into_id
    from walk_ends as e
    left join merge_links as l on {{ merge_path_end('e.path') }} = l.account_id
),

keyed as (
    select
        a.account_id,
        a.account_name,
        a.created_date,
        coalesce(a.is_deleted, false) as is_deleted,
        r.merged_into_id,
        r.is_merge_cycle,
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
        {{ value_at_min('account_id', ['is_deleted', 'created_date', 'account_id']) }} as master_account_id
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
        g.is_merge_cycle,
        g.account_id = m.master_account_id as is_master
    from grouped as g
    inner join masters as m on g.customer_key = m.customer_key
)

select * from final
