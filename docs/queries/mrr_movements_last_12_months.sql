-- MRR movements of the last 12 months: customers and MRR change per movement, net new MRR.
select
    month,
    movement,
    accounts,
    mrr_change,
    month_net_new_mrr,
    month_net_revenue_retention
from marts.fct_mrr_movements
where month > (select max(month) from marts.fct_mrr_movements) - interval 12 month
order by month, movement;
