"""The build job (ingest → dbt → publish), and the daily schedule that runs it."""

import dagster as dg

# In-process: the multiprocess executor re-imports the code location per step (STACK.md).
build_job = dg.define_asset_job(
    name="build_warehouse",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Ingest every landing snapshot, build every dbt model and check, publish.",
)

daily_build_schedule = dg.ScheduleDefinition(
    name="daily_build",
    job=build_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    description="Daily build after the CRM's nightly export has landed.",
)
