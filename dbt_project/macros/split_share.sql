{#-
  A split's share of `total` (fct_opportunity_splits): the difference of the rounded
  running totals through this split and before it, so shares add up to the cent.
  Expects `s.percent_through` and `s.percent_before` (percent, 0-100).
-#}
{% macro split_share(total) -%}
    round(cast({{ total }} as decimal(38, 2)) * s.percent_through * 0.01, 2)
    - round(cast({{ total }} as decimal(38, 2)) * s.percent_before * 0.01, 2)
{%- endmacro %}
