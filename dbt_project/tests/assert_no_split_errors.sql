{#-
  SPEC 4.5: total-validated splits must add up to 100%. A warning for now (the demo data
  holds an invalid split on purpose); whether it blocks the publish is decided later.
-#}
{{ config(severity='warn') }}

select * from {{ ref('split_errors') }}
