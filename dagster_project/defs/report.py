"""The finance report: one HTML file of charts beside the warehouse, after every publish.

An asset downstream of the publish, so every run writes it (the CLI, the schedule, the
sensor, the UI). It reads the published warehouse only, never the work file; its labels
(as-of date, currency) come from marts.build_info. Building it never fails a build
(SPEC 6): a chart that cannot be drawn, or a report that cannot be written at all, is the
failed warning check `report_complete`, and the run succeeds with the warehouse published.
"""

import dagster as dg

from dagster_project.defs.publish import published_warehouse
from dagster_project.defs.resources import WAREHOUSE_POOL, BuildSettings
from dagster_project.lib.outputs import OutputPathError, check_output_path
from dagster_project.lib.report import ReportError, report_path, write_report

REPORT_KEY = dg.AssetKey(["finance_report"])
REPORT_COMPLETE = "report_complete"


@dg.asset(
    key=REPORT_KEY,
    deps=[published_warehouse],
    group_name="publish",
    owners=["team:finance"],
    kinds={"html"},
    pool=WAREHOUSE_POOL,
    output_required=False,
    check_specs=[
        dg.AssetCheckSpec(
            REPORT_COMPLETE,
            asset=REPORT_KEY,
            description=(
                "Every chart of the finance report was drawn and the file written. Warns "
                "only: the warehouse is published either way."
            ),
        )
    ],
    description=(
        "The finance report (<warehouse>.report.html): MRR and ARR, the MRR bridge, "
        "movements, the forecast, renewals, bookings and the potential-subscription queue, "
        "from the published warehouse. Opens offline in a browser."
    ),
)
def finance_report(context: dg.AssetExecutionContext, settings: BuildSettings):
    out = report_path(settings.warehouse)
    warnings: list[str] = []
    try:
        check_output_path(out, landing=[settings.landing])
        drawn = write_report(settings.warehouse, out, warnings=warnings)
    except Exception as exc:  # the warehouse is published: never a failed run
        if not isinstance(exc, (ReportError, OutputPathError)):
            exc = f"{type(exc).__name__}: {exc}"
        context.log.warning(f"no finance report: {exc}")
        yield dg.AssetCheckResult(
            check_name=REPORT_COMPLETE,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"no finance report: {exc}",
        )
        return
    for warning in warnings:
        context.log.warning(warning)
    yield dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(out)),
            "charts_drawn": len(drawn),
            "charts": ", ".join(drawn),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=REPORT_COMPLETE,
                passed=not warnings,
                severity=dg.AssetCheckSeverity.WARN,
                description="; ".join(warnings) or f"{len(drawn)} charts drawn",
            )
        ],
    )


@dg.definitions
def report() -> dg.Definitions:
    return dg.Definitions(assets=[finance_report])
