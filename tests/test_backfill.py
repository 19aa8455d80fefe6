"""Idempotency and backfill (SPEC 3): the order snapshots arrive in never changes the marts."""

import shutil

import pytest

from dagster_project.build.run import DEMO_LANDING, run_build
from tests.conftest import mart_differences

# Every test here runs real builds (the job, its daemon or the CLI).
pytestmark = pytest.mark.slow

SNAPSHOTS = sorted(p for p in DEMO_LANDING.iterdir() if p.is_dir())[-2:]


@pytest.fixture(scope="module")
def in_order(tmp_path_factory):
    landing = tmp_path_factory.mktemp("in_order")
    for folder in SNAPSHOTS:
        shutil.copytree(folder, landing / folder.name)
    return run_build(landing, landing / "warehouse.duckdb")


def test_backfilled_snapshot_gives_the_same_marts(in_order, tmp_path):
    landing = tmp_path / "landing"
    newer, older = SNAPSHOTS[-1], SNAPSHOTS[0]
    shutil.copytree(newer, landing / newer.name)
    warehouse = tmp_path / "warehouse.duckdb"
    run_build(landing, warehouse)
    # The older snapshot arrives late, in a landing folder that no longer holds the newer one.
    shutil.rmtree(landing / newer.name)
    shutil.copytree(older, landing / older.name)
    summary = run_build(landing, warehouse)
    assert summary.snapshots == [older.name, newer.name]
    diff = mart_differences(in_order.warehouse, warehouse)
    assert diff and all(d == (0, 0) for d in diff.values()), diff


def test_rebuilding_the_same_snapshots_changes_nothing(in_order, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(in_order.warehouse, copy)
    landing = tmp_path / "landing"
    for folder in SNAPSHOTS:
        shutil.copytree(folder, landing / folder.name)
    summary = run_build(landing, copy)
    assert summary.loads == in_order.loads  # the same files were skipped, not loaded twice
    assert all(d == (0, 0) for d in mart_differences(in_order.warehouse, copy).values())
