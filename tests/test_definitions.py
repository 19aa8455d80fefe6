"""Snapshot of the Dagster definitions' shape: a renamed asset, group or job shows up here."""

from functools import cached_property

import dagster as dg
import pytest

from dagster_project.build.manifest import prepare_dbt_manifest
from dagster_project.build.run import JOB_NAME, load_definitions

EXPECTED_GROUPS = {
    "ingest": {
        "raw/snapshots",
        "raw/account",
        "raw/product2",
        "raw/opportunity",
        "raw/opportunity_line_item",
        "raw/opportunity_line_item_schedule",
        "raw/opportunity_split_type",
        "raw/opportunity_split",
        "raw/quote",
        "raw/order",
        "raw/order_item",
        "raw/contract",
        "raw/user",
        "raw/pricebook_entry",
        "raw/dated_conversion_rate",
    },
    "publish": {"published_warehouse", "finance_report"},
}
# The marts by domain: their folder under models/marts/ and their dbt (= asset) tag.
# build_info, at the root, describes the whole build and has no domain.
EXPECTED_DOMAINS = {
    "pipeline": {
        "fct_opportunities", "fct_line_items", "fct_schedules", "schedule_errors",
        "fct_revenue_schedule_monthly", "fct_opportunity_splits", "split_errors",
        "fct_mrr_forecast_by_close_month", "fct_opportunity_history", "fct_pipeline_waterfall",
        "fct_forecast_accuracy", "fct_forecast_accuracy_by_owner", "fct_quotes", "fct_orders",
    },
    "revenue": {
        "fct_mrr_monthly", "fct_mrr_movements", "fct_mrr_bridge_detail",
        "fct_mrr_forecast_monthly", "fct_retention_ttm", "fct_cohort_retention",
        "fct_month_close", "fct_restatements",
    },
    "subscriptions": {
        "fct_subscriptions", "fct_subscription_items", "subscription_build_errors",
        "fct_potential_subscriptions",
    },
    "renewals": {
        "fct_contracts", "fct_renewal_pipeline", "renewal_opportunities_to_create",
        "fct_cotermination_proposals",
    },
    "customers": {"dim_accounts", "new_logo_opportunities", "new_logo_orders", "new_logo_quotes"},
}  # fmt: skip


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    prepare_dbt_manifest()
    return load_definitions()


def test_asset_groups_and_keys(definitions):
    graph = definitions.resolve_asset_graph()
    groups: dict[str, set[str]] = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        groups.setdefault(node.group_name, set()).add(key.to_user_string())
    for group, keys in EXPECTED_GROUPS.items():
        assert groups[group] == keys
    assert {
        "staging/stg_crm__opportunities",
        "staging/stg_crm__accounts",
        "staging/stg_crm__snapshots",
        "staging/stg_subscription_build__subscriptions",
        "staging/stg_subscription_build__items",
        "staging/stg_subscription_build__errors",
    } <= groups["staging"]
    assert {
        "marts/fct_opportunities",
        "marts/dim_accounts",
        "marts/fct_opportunity_history",
    } <= groups["marts"]
    assert groups["intermediate"] >= {
        "intermediate/int_accounts_mastered",
        "intermediate/subscription_build_subscriptions",
        "intermediate/subscription_build_items",
    }
    assert {
        "marts/fct_schedules",
        "marts/fct_line_items",
        "marts/fct_subscriptions",
        "marts/fct_mrr_monthly",
        "marts/fct_mrr_movements",
    } <= groups["marts"]
    assert groups["reference"] == {"reference/stage_defaults"}


def test_marts_by_domain(definitions):
    """Each mart in one domain folder, tagged with it; the group stays the layer (marts)."""
    graph = definitions.resolve_asset_graph()
    domains: dict[str, set[str]] = {}
    untagged = set()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.group_name != "marts":
            continue
        tags = set(node.tags) & set(EXPECTED_DOMAINS)
        assert len(tags) <= 1, (key, tags)
        if tags:
            domains.setdefault(tags.pop(), set()).add(key.path[-1])
        else:
            untagged.add(key.path[-1])
    assert domains == EXPECTED_DOMAINS
    assert untagged == {"build_info"}


def test_lineage_runs_ingest_to_dbt_to_publish(definitions):
    graph = definitions.resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_crm__opportunities"]))
    assert dg.AssetKey(["raw", "opportunity"]) in staging.parent_keys
    builder = graph.get(dg.AssetKey(["intermediate", "subscription_build_items"]))
    assert builder.parent_keys == {
        dg.AssetKey(["intermediate", "int_opportunities_won"]),
        dg.AssetKey(["intermediate", "int_line_items_won"]),
        dg.AssetKey(["marts", "build_info"]),
    }
    # The builder's tables enter dbt as a source (meta.dagster.asset_key) read only by
    # staging models, which build after the builder, in the second dbt selection.
    staged_items = graph.get(dg.AssetKey(["staging", "stg_subscription_build__items"]))
    assert staged_items.parent_keys == {dg.AssetKey(["intermediate", "subscription_build_items"])}
    items = graph.get(dg.AssetKey(["marts", "fct_subscription_items"]))
    assert dg.AssetKey(["staging", "stg_subscription_build__items"]) in items.parent_keys
    assert not any(key.path[0] == "intermediate" for key in items.parent_keys)
    after = definitions.resolve_assets_def(staged_items.key)
    assert after.op.name == "subscription_dbt_models"
    before = definitions.resolve_assets_def(dg.AssetKey(["intermediate", "int_line_items_won"]))
    assert before.op.name == "crm_dbt_models"
    publish = graph.get(dg.AssetKey(["published_warehouse"]))
    assert dg.AssetKey(["marts", "fct_opportunities"]) in publish.parent_keys


def test_job_schedule_and_checks(definitions):
    job = definitions.resolve_job_def(JOB_NAME)
    assert job.executor_def is dg.in_process_executor
    assert [s.name for s in definitions.schedules] == ["daily_build"]
    assert [s.name for s in definitions.sensors] == ["new_snapshot_sensor"]
    raw = definitions.resolve_assets_def(dg.AssetKey(["raw", "opportunity"]))
    assert raw.partitions_def.name == "snapshots"
    assert definitions.resolve_schedule_def("daily_build").job_name == JOB_NAME
    checks = {k.name for k in definitions.resolve_asset_graph().asset_check_keys}
    # Unique keys of the money marts: a dbt test beside the model, named for the check
    # (one owner, no Python rule as well); every dbt data test is an asset check.
    assert "unique_opportunity_id" in checks
    assert "unique_fct_opportunities_opportunity_id" not in checks
    assert "mrr_and_tcv_match_line_items" in checks
    assert any(name.startswith("accepted_values_fct_subscriptions_status") for name in checks)


def test_dbt_resource_skips_what_builds_never_use(definitions):
    """BuildDbtCli overrides two private members of dagster-dbt's resource; an upgrade
    that renames them would bring back ~5 s per build silently, so check that cli() still
    calls them and that the version we report is the one `dbt --version` prints."""
    import inspect
    import subprocess

    from dagster_dbt import DbtCliResource

    from dagster_project.defs.dbt import BuildDbtCli

    dbt = definitions.resources["dbt"]
    assert isinstance(dbt, BuildDbtCli)
    assert isinstance(DbtCliResource.__dict__["_cli_version"], cached_property)
    assert callable(DbtCliResource.__dict__["_initialize_dbt_core_adapter"])
    calls = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in calls and "self._initialize_dbt_core_adapter(" in calls
    printed = subprocess.run(
        [dbt.dbt_executable, "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"installed: {dbt._cli_version}" in printed
    assert dbt._initialize_dbt_core_adapter(["build"]) is None
