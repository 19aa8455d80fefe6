{#-
  Whether an order counts as nothing (SPEC 4.6): Cancelled (or Canceled), in any case, blanks
  around it ignored; an empty status is not cancelled. One rule for every reader: prior
  business of new logos, dim_accounts' first business date, a contract's own ARR
  (fct_contracts) and fct_orders.is_cancelled.
-#}
{% macro is_cancelled_order_status(status_column) -%}
    coalesce(lower(trim({{ status_column }})) in ('cancelled', 'canceled'), false)
{%- endmacro %}
