"""The build job: ingest → dbt and the subscription builder → checks → publish → report."""

import dagster as dg

# In-process: the multiprocess executor re-imports the code location per step (STACK.md),
# and each step process would set up the run's work file again. Set for the whole code
# location, so "Materialize all" in the UI (Dagster's implicit asset job) runs in process
# too.
build_job = dg.define_asset_job(
    name="build_warehouse",
    selection=dg.AssetSelection.all(),
    description=(
        "Ingest the run's snapshot partitions, build every dbt model and check, publish, "
        "write the finance report."
    ),
)


@dg.definitions
def jobs() -> dg.Definitions:
    return dg.Definitions(jobs=[build_job], executor=dg.in_process_executor)
