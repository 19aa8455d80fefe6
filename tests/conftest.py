"""Shared fixtures: the demo warehouse is built once per test session, in a temp dir."""

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from dagster_project.build.manifest import prepare_dbt_manifest
from dagster_project.build.run import DEMO_LANDING, run_build


def pytest_collection_modifyitems(items):
    """Mark every test that needs the demo build `slow`: `make test-fast` leaves them out.
    Tests that run a build, dbt or the recurwise command for long carry the mark themselves."""
    for item in items:
        if "demo_build" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


def pytest_sessionstart(session):
    """dagster-dbt reads target/manifest.json when defs/dbt.py is imported: parse first,
    so any test may import the definitions on a fresh clone. Under pytest-xdist the
    controller parses before it starts the workers, so they never parse at once."""
    if not hasattr(session.config, "workerinput"):
        prepare_dbt_manifest()


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory):
    """The real build job run on the bundled demo snapshots (SPEC 6), published to a tmp file."""
    warehouse = tmp_path_factory.mktemp("demo") / "warehouse.duckdb"
    return run_build(DEMO_LANDING, warehouse)


@pytest.fixture(scope="session")
def java() -> None:
    """Local Spark needs a JVM (Java 17 on the machines). Without one the Spark tests skip
    saying so, unless RECURWISE_REQUIRE_JAVA=1 (.ci/run sets it): then they fail."""
    if shutil.which("java") or os.environ.get("JAVA_HOME"):
        return
    reason = "no java on PATH and no JAVA_HOME (install openjdk-17-jre-headless)"
    if os.environ.get("RECURWISE_REQUIRE_JAVA") == "1":
        pytest.fail(f"RECURWISE_REQUIRE_JAVA=1 but {reason}")
    pytest.skip(f"{reason}; the Spark tests need a JVM")


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


def mart_differences(left: Path, right: Path) -> dict[str, tuple[int, int]]:
    """Per mart of `left`: rows only in left and rows only in right (EXCEPT ALL both ways).

    marts.build_info is left out: it records each build itself (when it ran, with which
    settings), not data the two builds should agree on."""
    with duckdb.connect() as con:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_catalog = 'l' "
                "and table_schema = 'marts' and table_name <> 'build_info'"
            ).fetchall()
        ]
        result = {}
        for name in names:
            only_left, only_right = con.execute(
                f'select (select count(*) from (from l.marts."{name}" except all '
                f'from r.marts."{name}")), (select count(*) from (from r.marts."{name}" '
                f'except all from l.marts."{name}"))'
            ).fetchone()
            result[name] = (only_left, only_right)
        return result
