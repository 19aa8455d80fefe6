"""The sensor requests a build once per new snapshot folder, and skips otherwise."""

import dagster as dg

from dagster_project.defs.resources import BuildSettings
from dagster_project.defs.sensors import new_snapshot_sensor
from tests.conftest import write_snapshot


def evaluate(landing, cursor=None):
    settings = BuildSettings(landing_dir=str(landing), warehouse_path=str(landing / "w.duckdb"))
    context = dg.build_sensor_context(cursor=cursor, resources={"settings": settings})
    return new_snapshot_sensor(context), context.cursor


def test_new_folder_starts_one_build_then_waits_for_the_next(tmp_path):
    write_snapshot(tmp_path, "2026-01-01", {"Account.csv": "Id,Name,CreatedDate\n"})
    result, cursor = evaluate(tmp_path)
    assert isinstance(result, dg.RunRequest)
    assert result.tags["snapshots"] == "2026-01-01"

    again, cursor = evaluate(tmp_path, cursor)
    assert isinstance(again, dg.SkipReason)

    write_snapshot(tmp_path, "2026-01-02", {"Account.csv": "Id,Name,CreatedDate\n"})
    later, _ = evaluate(tmp_path, cursor)
    assert isinstance(later, dg.RunRequest)
    assert later.tags["snapshots"] == "2026-01-02"


def test_missing_landing_folder_is_a_skip_not_a_crash(tmp_path):
    result, _ = evaluate(tmp_path / "nowhere")
    assert isinstance(result, dg.SkipReason)
    assert "does not exist" in result.skip_message
