"""The build job: ingest → dbt and the subscription builder → checks → publish."""

import dagster as dg

# In-process: the multiprocess executor re-imports the code location per step (STACK.md).
build_job = dg.define_asset_job(
    name="build_warehouse",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Ingest the run's snapshot partitions, build every dbt model and check, publish.",
)
