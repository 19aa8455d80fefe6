-- Finance's MRR forecast for the next 12 months, one column per scenario.
pivot (
    select month, scenario, forecast_mrr
    from marts.fct_mrr_forecast_monthly
    where month >= (select max(month) from marts.fct_mrr_monthly)
        and month < (select max(month) from marts.fct_mrr_monthly) + interval 12 month
)
on scenario using sum(forecast_mrr)
order by month;
