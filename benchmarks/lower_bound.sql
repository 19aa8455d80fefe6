-- The bare-engine floor of SPEC 8: the core of schedules and MRR (SPEC 4.3-4.5) run
-- straight in DuckDB over the raw tables of the latest snapshot, no dbt, no Dagster:
-- FX at close date, default schedules from the product (Divide/Repeat, five periods,
-- month steps from the start, cents remainder on the last installment), explicit schedule
-- rows overriding, line and opportunity MRR / TCV.
create schema if not exists bench;

create or replace table bench.lines as
with latest as (select max(snapshot_date) as d from raw.snapshots),
products as (
    select * from raw.product2_versions
    where (select d from latest) between _first_snapshot_date and _last_snapshot_date
),
opportunities as (
    select * from raw.opportunity_versions
    where (select d from latest) between _first_snapshot_date and _last_snapshot_date
),
line_rows as (
    select * from raw.opportunity_line_item_versions
    where (select d from latest) between _first_snapshot_date and _last_snapshot_date
),
rates as (
    select * from raw.dated_conversion_rate_versions
    where (select d from latest) between _first_snapshot_date and _last_snapshot_date
),
explicit_lines as (
    select distinct "OpportunityLineItemId" as line_id
    from raw.opportunity_line_item_schedule_versions
    where (select d from latest) between _first_snapshot_date and _last_snapshot_date
)
select
    l."Id" as line_id,
    o."Id" as opportunity_id,
    coalesce(l."ServiceDate", o."Start_Date__c", o."CloseDate") as start_date,
    coalesce(r."ConversionRate", 1) as rate,
    l."Quantity" as quantity,
    l."UnitPrice" * (1 - coalesce(l."Discount", 0) / 100) as net_unit_price,
    p."Charge_Type__c" as charge_type,
    p."RevenueScheduleType" as revenue_type,
    p."RevenueInstallmentPeriod" as revenue_period,
    coalesce(p."NumberOfRevenueInstallments", 0) as revenue_installments,
    p."CanUseRevenueSchedule" and p."RevenueScheduleType" is not null
        and e.line_id is null as has_default_revenue_schedule,
    o."Term_Months__c" as opportunity_term
from line_rows as l
join opportunities as o on l."OpportunityId" = o."Id"
join products as p on l."Product2Id" = p."Id"
left join explicit_lines as e on l."Id" = e.line_id
left join rates as r
    on r."IsoCode" = o."CurrencyIsoCode"
    and r."StartDate" <= o."CloseDate"
    and (r."NextStartDate" is null or o."CloseDate" < r."NextStartDate");

create or replace table bench.schedules as
with planned as (
    select
        *,
        round(quantity * net_unit_price / rate, 2) as total,
        case when revenue_type = 'Divide'
            then round(round(quantity * net_unit_price / rate, 2) / revenue_installments, 2)
            else round(quantity * net_unit_price / rate, 2) end as installment
    from bench.lines
    where has_default_revenue_schedule and revenue_installments between 1 and 150
)
select
    line_id,
    opportunity_id,
    k + 1 as installment_number,
    case revenue_period
        when 'Daily' then start_date + cast(k as integer)
        when 'Weekly' then start_date + cast(7 * k as integer)
        when 'Monthly' then cast(start_date + to_months(cast(k as integer)) as date)
        when 'Quarterly' then cast(start_date + to_months(cast(3 * k as integer)) as date)
        else cast(start_date + to_months(cast(12 * k as integer)) as date)
    end as schedule_date,
    case when revenue_type = 'Divide' and k = revenue_installments - 1
        then total - installment * (revenue_installments - 1)
        else installment end as revenue
from planned, unnest(range(revenue_installments)) as t(k);

create or replace table bench.line_mrr as
select
    l.line_id,
    l.opportunity_id,
    coalesce(s.revenue, round(l.quantity * l.net_unit_price / l.rate, 2)) as tcv,
    case
        when l.charge_type = 'Recurring' or (l.charge_type is null and s.line_id is not null)
        then coalesce(s.revenue, round(l.quantity * l.net_unit_price / l.rate, 2)) / case
            when s.line_id is not null then l.revenue_installments * case l.revenue_period
                when 'Daily' then 12 / 365 when 'Weekly' then 12 / 52 when 'Monthly' then 1
                when 'Quarterly' then 3 else 12 end
            else coalesce(l.opportunity_term, 12) end
        else 0
    end as mrr
from bench.lines as l
left join (
    select line_id, sum(revenue) as revenue from bench.schedules group by line_id
) as s on l.line_id = s.line_id;

create or replace table bench.opportunity_mrr as
select opportunity_id, round(sum(mrr), 2) as mrr, round(12 * sum(mrr), 2) as arr, sum(tcv) as tcv
from bench.line_mrr
group by opportunity_id;
