{#-
  "Active on a day", the one rule every model that asks uses (SPEC 4.9, 4.10): an item
  (a subscription item, a subscription) is active on `day` from its start through its
  end date, both included; an item without an end date is active from its start on.
  `item` is the alias of the relation with start_date and end_date.
-#}
{% macro is_active_on(item, day) -%}
    ({{ item }}.start_date <= {{ day }} and ({{ item }}.end_date is null or {{ day }} <= {{ item }}.end_date))
{%- endmacro %}
