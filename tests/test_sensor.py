"""The sensor adds a partition per new snapshot folder and requests one build for them.

Known noise: when this module's sensor test and schedule test run in one process, Python
prints "nanobind: leaked ... instances" for duckdb's module objects at interpreter exit,
after pytest has finished (exit code 0). No duckdb connection is opened here; something in
the Dagster instance path keeps the module alive through shutdown. Harmless, upstream.
"""

from datetime import UTC, datetime

import dagster as dg
import duckdb

from dagster_project.defs.resources import BuildSettings
from dagster_project.defs.sensors import daily_build, new_snapshot_sensor
from tests.conftest import write_snapshot

EMPTY_ACCOUNTS = {"Account.csv": "Id,Name,CreatedDate\n"}


def evaluate(landing, instance):
    settings = BuildSettings(landing_dir=str(landing), warehouse_path=str(landing / "w.duckdb"))
    with dg.build_sensor_context(instance=instance, resources={"settings": settings}) as context:
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


def schedule_tick(landing, instance, warehouse=None):
    settings = BuildSettings(
        landing_dir=str(landing), warehouse_path=str(warehouse or landing / "w.duckdb")
    )
    when = datetime(2026, 1, 3, 6, tzinfo=UTC)
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, resources={"settings": settings}
    ) as context:
        # As the daemon evaluates it: evaluate_tick checks what the schedule returns.
        data = daily_build.evaluate_tick(context)
    if data.skip_message:
        return dg.SkipReason(data.skip_message)
    [request] = data.run_requests
    return request


def published(path, snapshots: list[str]):
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.snapshots (snapshot_date date)")
        con.executemany("insert into raw.snapshots values (?)", [[s] for s in snapshots])
    return path


def test_daily_schedule_builds_every_folder_the_warehouse_does_not_hold(tmp_path):
    with dg.instance_for_test() as instance:
        schedule_builds_pending_folders(tmp_path, instance)


def schedule_builds_pending_folders(tmp_path, instance):
    landing = tmp_path / "landing"
    landing.mkdir()
    assert "no snapshot folder" in schedule_tick(landing, instance).skip_message
    for day in ("2026-01-01", "2026-01-02", "2026-01-03"):
        write_snapshot(landing, day, EMPTY_ACCOUNTS)
    # The sensor saw the first two days; the third landed while it was stopped.
    instance.add_dynamic_partitions("snapshots", ["2026-01-02", "2026-01-01"])
    warehouse = published(tmp_path / "w.duckdb", ["2026-01-01"])
    request = schedule_tick(landing, instance, warehouse)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == "daily-2026-01-03"
    # Partition order: 2026-01-02 was added first; the new folder is appended.
    assert request.tags["dagster/asset_partition_range_start"] == "2026-01-02"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-01-03"
    added = instance.get_dynamic_partitions("snapshots")
    assert added == ["2026-01-02", "2026-01-01", "2026-01-03"]

    warehouse.unlink()
    published(warehouse, ["2026-01-01", "2026-01-02", "2026-01-03"])
    skipped = schedule_tick(landing, instance, warehouse)
    assert "holds every snapshot folder" in skipped.skip_message


def test_sensor_and_schedule_run_by_default():
    assert new_snapshot_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert daily_build.default_status == dg.DefaultScheduleStatus.RUNNING
