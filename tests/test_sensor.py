"""The sensor adds a partition per new snapshot folder and requests one build for them.

Known noise: when this module's sensor test and schedule test run in one process, Python
prints "nanobind: leaked ... instances" for duckdb's module objects at interpreter exit,
after pytest has finished (exit code 0). No duckdb connection is opened here; something in
the Dagster instance path keeps the module alive through shutdown. Harmless, upstream.
"""

from datetime import UTC, datetime

import dagster as dg

from dagster_project.defs.resources import BuildSettings
from dagster_project.defs.sensors import daily_build, new_snapshot_sensor
from tests.conftest import write_snapshot

EMPTY_ACCOUNTS = {"Account.csv": "Id,Name,CreatedDate\n"}


def evaluate(landing, instance):
    settings = BuildSettings(landing_dir=str(landing), warehouse_path=str(landing / "w.duckdb"))
    context = dg.build_sensor_context(instance=instance, resources={"settings": settings})
    return new_snapshot_sensor(context)


def apply(instance, result: dg.SensorResult) -> None:
    """What the daemon does with the sensor's partition requests."""
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)


def test_new_folders_become_partitions_and_one_build(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    write_snapshot(tmp_path, "2026-01-01", EMPTY_ACCOUNTS)
    write_snapshot(tmp_path, "2026-01-02", EMPTY_ACCOUNTS)
    result = evaluate(tmp_path, instance)
    assert isinstance(result, dg.SensorResult)
    [request] = result.run_requests
    assert request.tags["dagster/asset_partition_range_start"] == "2026-01-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-01-02"
    apply(instance, result)

    assert isinstance(evaluate(tmp_path, instance), dg.SkipReason)

    write_snapshot(tmp_path, "2026-01-03", EMPTY_ACCOUNTS)
    later = evaluate(tmp_path, instance)
    assert later.dynamic_partitions_requests[0].partition_keys == ["2026-01-03"]
    assert later.run_requests[0].tags["dagster/asset_partition_range_start"] == "2026-01-03"


def test_missing_landing_folder_is_a_skip_not_a_crash(tmp_path):
    result = evaluate(tmp_path / "nowhere", dg.DagsterInstance.ephemeral())
    assert isinstance(result, dg.SkipReason)
    assert "does not exist" in result.skip_message


def test_daily_schedule_rebuilds_the_latest_snapshot():
    with dg.instance_for_test() as instance:
        nothing = dg.build_schedule_context(instance=instance)
        assert isinstance(daily_build(nothing), dg.SkipReason)
        instance.add_dynamic_partitions("snapshots", ["2026-01-02", "2026-01-01"])
        when = datetime(2026, 1, 3, 6, tzinfo=UTC)
        request = daily_build(
            dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
        )
        assert request.partition_key == "2026-01-02"
        assert request.run_key == "daily-2026-01-03"
