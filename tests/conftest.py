"""Shared fixtures: the demo warehouse is built once per test session, in a temp dir."""

from pathlib import Path

import duckdb
import pytest

from dagster_project.runner import DEMO_LANDING, prepare_dbt_manifest, run_build


def pytest_sessionstart(session):
    """dagster-dbt reads target/manifest.json when defs/dbt.py is imported: parse first,
    so any test may import the definitions on a fresh clone."""
    prepare_dbt_manifest()


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory):
    """The real build job run on the bundled demo snapshots (SPEC 6), published to a tmp file."""
    warehouse = tmp_path_factory.mktemp("demo") / "warehouse.duckdb"
    return run_build(DEMO_LANDING, warehouse)


@pytest.fixture()
def demo_db(demo_build):
    """A read-only connection to the published demo warehouse."""
    con = duckdb.connect(str(demo_build.warehouse), read_only=True)
    yield con
    con.close()


def write_snapshot(landing: Path, snapshot: str, files: dict[str, str]) -> Path:
    """A landing snapshot folder with the given file contents (text written as UTF-8)."""
    folder = landing / snapshot
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
