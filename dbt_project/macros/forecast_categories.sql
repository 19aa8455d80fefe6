{#-
  Salesforce forecast categories read by API value or by label (SPEC 4.12): the API
  values are Pipeline, BestCase, MostLikely, Forecast (= Commit), Closed and Omitted; the
  labels Pipeline, Best Case, Most Likely, Commit, Closed and Omitted. Both read as the
  label; anything else keeps its own text (an open deal in it counts as pipeline).
-#}
{% macro forecast_category_label(category_column) -%}
    case replace(lower(trim({{ category_column }})), ' ', '')
        when 'pipeline' then 'Pipeline'
        when 'bestcase' then 'Best Case'
        when 'mostlikely' then 'Most Likely'
        when 'commit' then 'Commit'
        when 'forecast' then 'Commit'
        when 'closed' then 'Closed'
        when 'omitted' then 'Omitted'
        else coalesce(nullif(trim({{ category_column }}), ''), 'Pipeline')
    end
{%- endmacro %}
