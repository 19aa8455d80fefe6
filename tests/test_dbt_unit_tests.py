"""dbt unit tests (SPEC's worked examples and every rule's fixtures) on an empty warehouse.

The production build leaves them out (they check SQL logic, not data). dbt needs the
relations a unit test's model reads, only for their columns: here every model is built
with `--empty` (zero rows) over an empty raw store and an empty subscription build, so
the unit tests speak within a minute of a SQL edit, with no full build (`make test-fast`).
"""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dagster_project.dbt_project import DBT_PROJECT_DIR
from dagster_project.defs.subscriptions import build_in_warehouse
from dagster_project.lib.build_filter import DEFAULT_BUILD_FILTER
from dagster_project.lib.ingest.raw_schema import ensure_raw_schema

DBT = str(Path(sys.executable).parent / "dbt")
AS_OF = date(2026, 11, 16)
AFTER_SUBSCRIPTIONS = "source:subscription_build+"


def run_dbt(work: Path, scratch: Path, *args: str) -> str:
    result = subprocess.run(
        [DBT, *args, "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs")],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "RECURWISE_WORK_DB": str(work)},
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:]
    return result.stdout


@pytest.fixture(scope="module")
def empty_warehouse(tmp_path_factory) -> tuple[Path, Path]:
    """Every model built with zero rows, in dependency order around the builder."""
    scratch = tmp_path_factory.mktemp("dbt_unit")
    work = scratch / "empty.duckdb"
    with duckdb.connect(str(work)) as con:
        ensure_raw_schema(con)
        # One snapshot recorded and no rows loaded: the as-of date exists, nothing else.
        con.execute("insert into raw.snapshots values (?, 'empty', now()::timestamp)", [AS_OF])
    # `--empty` empties every source read, raw.snapshots too: the as-of date comes as the
    # var, and build_info (one row, from the snapshot calendar alone) is built for real.
    empty = ("run", "--empty", "--vars", f"{{as_of_date: '{AS_OF}'}}")
    run_dbt(work, scratch, "build", "--select", "resource_type:seed", "+build_info",
            "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")  # fmt: skip
    run_dbt(work, scratch, *empty, "--exclude", AFTER_SUBSCRIPTIONS, "+build_info")
    with duckdb.connect(str(work)) as con:
        build_in_warehouse(con, DEFAULT_BUILD_FILTER)  # the builder's tables, empty
    run_dbt(work, scratch, *empty, "--select", AFTER_SUBSCRIPTIONS)
    return work, scratch


def test_every_dbt_unit_test_passes(empty_warehouse):
    work, scratch = empty_warehouse
    output = run_dbt(work, scratch, "test", "--select", "test_type:unit")
    summary = next(line for line in output.splitlines() if "Done. PASS=" in line)
    passed = int(summary.split("PASS=")[1].split()[0])
    assert passed >= 68, summary  # the worked examples and rule fixtures, none skipped
    assert "ERROR=0" in summary and "SKIP=0" in summary


def test_the_empty_build_made_every_model(empty_warehouse):
    """A model missing from the empty warehouse would make its unit tests introspect
    nothing: every model of the manifest is there."""
    work, scratch = empty_warehouse
    listed = run_dbt(
        work, scratch, "ls", "--resource-type", "model", "--output", "json",
        "--output-keys", "name", "schema", "config",
    )  # fmt: skip
    expected = set()
    for line in listed.splitlines():
        if line.startswith("{"):
            node = json.loads(line)
            if node["config"]["materialized"] != "ephemeral":
                expected.add((node["schema"], node["name"]))
    with duckdb.connect(str(work), read_only=True) as con:
        present = set(
            con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        )
    assert expected and expected <= present, sorted(expected - present)
