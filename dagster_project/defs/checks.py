"""Asset checks: the Great Expectations rules of lib/expectations/ on raw and marts (SPEC 8).

One multi-asset check per checked asset (one step each); every rule is its own check in the
UI. A failed rule of a blocking kind reports severity ERROR: Dagster then fails the check
step and skips everything downstream, the publish included, so the analysts keep the last
good warehouse. A warning rule reports severity WARN, which never blocks.

Every check is declared `blocking=True`, warnings too: that is what makes the publish step
wait for it (a non-blocking check may run after the work file has been renamed away). Only
an ERROR result blocks; a WARN result of a declared-blocking check does not.
"""

import importlib
import threading
from collections import defaultdict

import dagster as dg

from dagster_project.defs.resources import (
    WAREHOUSE_POOL,
    BuildSettings,
    SparkEngine,
    WorkWarehouse,
)
from dagster_project.lib.expectations import (
    FRAME_ROWS,
    Outcome,
    Rule,
    all_rules,
    preload,
    run_rule,
    run_rule_on_spark,
    set_as_of,
)
from dagster_project.lib.lakehouse import RAW, attach_tables

# Longest failure summary kept in a check result (the UI and the build error quote it).
SUMMARY_CHARS = 1_500


class GreatExpectations(dg.ConfigurableResource):
    """Great Expectations, loaded in a background thread from run start.

    Its import takes 5-8 s (STACK.md); resources are set up when the run starts, so the
    import overlaps the first dbt and ingest steps instead of delaying the first check.
    """

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # SQLAlchemy first, in this thread: Dagster's event storage imports it lazily while
        # the steps run, and the two threads importing its circular `orm` package at once
        # failed a demo build with "partially initialized module 'sqlalchemy.orm.exc'".
        importlib.import_module("sqlalchemy.orm")

        threading.Thread(target=preload, name="great-expectations-preload", daemon=True).start()


def _spec(rule: Rule) -> dg.AssetCheckSpec:
    effect = (
        "Blocks the publish when it fails."
        if rule.blocking
        else "Warns only: never blocks the publish."
    )
    return dg.AssetCheckSpec(
        name=rule.name,
        asset=dg.AssetKey(list(rule.asset)),
        description=f"{rule.description} {effect}",
        blocking=True,
        additional_deps=[dg.AssetKey(list(table)) for table in rule.reads],
        metadata={
            "blocks_publish": rule.blocking,
            "engine": "duckdb or spark sql + great_expectations",
        },
    )


def _result(rule: Rule, outcome: Outcome | None, error: str | None) -> dg.AssetCheckResult:
    severity = dg.AssetCheckSeverity.ERROR if rule.blocking else dg.AssetCheckSeverity.WARN
    if outcome is None:
        return dg.AssetCheckResult(
            asset_key=dg.AssetKey(list(rule.asset)),
            check_name=rule.name,
            passed=False,
            severity=severity,
            description=f"could not run: {error}"[:SUMMARY_CHARS],
            metadata={"blocks_publish": rule.blocking},
        )
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(list(rule.asset)),
        check_name=rule.name,
        passed=outcome.success,
        severity=severity,
        description=outcome.summary[:SUMMARY_CHARS],
        metadata={
            "blocks_publish": rule.blocking,
            "rows_validated": outcome.rows_validated,
            "frame_limit": FRAME_ROWS,
            "expectations": outcome.expectations,
            "failed_expectations": dg.MetadataValue.json(list(outcome.failures)),
            "seconds": outcome.seconds,
        },
    )


def _evaluate(
    settings: BuildSettings, warehouse: WorkWarehouse, spark: SparkEngine, rules: list[Rule]
) -> list[dg.AssetCheckResult]:
    if settings.on_spark and rules and rules[0].asset[0] != RAW:
        return _evaluate_on_spark(settings, spark, rules)
    if not warehouse.path.exists():
        # Never let duckdb.connect create an empty file where the work file should be.
        return [_result(r, None, f"work file {warehouse.path} does not exist") for r in rules]
    with warehouse.connect(read_only=True) as con:
        set_as_of(con, settings.dbt_vars().get("as_of_date"))
        return _run_each(rules, lambda rule: run_rule(con, rule))


def _run_each(rules: list[Rule], run) -> list[dg.AssetCheckResult]:
    """Each rule's result; a rule that cannot run fails with its own severity."""
    results = []
    for rule in rules:
        try:
            results.append(_result(rule, run(rule), None))
        except Exception as exc:
            results.append(_result(rule, None, f"{type(exc).__name__}: {exc}"))
    return results


def _evaluate_on_spark(
    settings: BuildSettings, spark: SparkEngine, rules: list[Rule]
) -> list[dg.AssetCheckResult]:
    """The rules of a model on the Spark engine: the same SQL and suites as Spark SQL over
    the work lakehouse's tables. (Raw rules stay on the work file: ingest is DuckDB's.)"""
    session = spark.session()
    tables = sorted({rule.table for rule in rules} | {".".join(t) for r in rules for t in r.reads})
    try:
        attach_tables(session, spark.work_lakehouse, tables)
    except Exception as exc:
        return [_result(rule, None, f"{type(exc).__name__}: {exc}") for rule in rules]
    return _run_each(rules, lambda rule: run_rule_on_spark(session, rule))


def build_asset_checks(asset: tuple[str, str], rules: list[Rule]) -> dg.AssetChecksDefinition:
    """The checks of one asset, run in one step on the run's work file."""
    specs = [_spec(rule) for rule in rules]

    @dg.multi_asset_check(
        specs=specs,
        name=f"check_{asset[0]}__{asset[1]}",
        description=f"Great Expectations rules on {'.'.join(asset)}.",
        can_subset=True,
        pool=WAREHOUSE_POOL,
    )
    def _checks(
        context: dg.AssetCheckExecutionContext,
        settings: BuildSettings,
        warehouse: WorkWarehouse,
        spark: SparkEngine,
        great_expectations: GreatExpectations,  # required so that it preloads at run start
    ):
        selected = context.selected_asset_check_keys
        chosen = [
            r for r in rules if dg.AssetCheckKey(dg.AssetKey(list(r.asset)), r.name) in selected
        ]
        results = _evaluate(settings, warehouse, spark, chosen)
        for result in results:
            if not result.passed:
                blocking = result.severity == dg.AssetCheckSeverity.ERROR
                log = context.log.error if blocking else context.log.warning
                log(f"{'.'.join(asset)} {result.check_name}: {result.description}")
        yield from results

    return _checks


def _rules_by_asset() -> dict[tuple[str, str], list[Rule]]:
    grouped: dict[tuple[str, str], list[Rule]] = defaultdict(list)
    for rule in all_rules():
        grouped[rule.asset].append(rule)
    return grouped


asset_checks = [build_asset_checks(asset, rules) for asset, rules in _rules_by_asset().items()]


@dg.definitions
def checks() -> dg.Definitions:
    return dg.Definitions(
        asset_checks=asset_checks, resources={"great_expectations": GreatExpectations()}
    )
