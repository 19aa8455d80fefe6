"""What Salesforce's own tools write loads to the same marts as the canonical CSV (SPEC 2.1).

The demo's snapshots are rewritten by tests/salesforce_formats.py in each tool's format and
built like any landing folder; every mart must equal the canonical build's, EXCEPT ALL
both ways, every column.
"""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dagster_project.build.run import DEMO_LANDING, run_build
from tests import salesforce_formats as formats
from tests.conftest import mart_differences

RECURWISE = str(Path(sys.executable).parent / "recurwise")
SNAPSHOTS = sorted(p.name for p in DEMO_LANDING.iterdir() if p.is_dir())


def assert_same_marts(expected: Path, actual: Path) -> None:
    """Every mart of `expected` has exactly the rows of the same mart in `actual`."""
    differences = mart_differences(expected, actual)
    assert len(differences) >= 26
    assert {m: d for m, d in differences.items() if d != (0, 0)} == {}, (
        "mart: (rows only in canonical, rows only in this format)"
    )
    with duckdb.connect(str(actual), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_schedules").fetchone()[0] > 10_000


def test_each_tools_export_builds_the_canonical_marts(demo_build, tmp_path):
    """One snapshot per tool: Data Loader up to v60 (upper-case headers, all quoted, Java
    numbers, CRLF, lower-case file names, a relationship column), Data Loader v61 with a
    BOM, Bulk API 2.0 (E-notation, padded Ids) with Parquet of native types for two
    objects, and `sf data query` (+0000 offsets)."""
    landing = tmp_path / "landing"
    writers = [formats.data_loader_v60, formats.data_loader_v61, formats.bulk_api,
               formats.sf_data_query]  # fmt: skip
    for snapshot, writer in zip(SNAPSHOTS, writers, strict=True):
        target = landing / snapshot
        target.mkdir(parents=True)
        for source in sorted((DEMO_LANDING / snapshot).glob("*.csv")):
            if writer is formats.bulk_api and source.stem in ("Account", "Opportunity"):
                formats.parquet_native(source, target, source.stem)
            else:
                writer(source, target, source.stem)
    assert (landing / SNAPSHOTS[0] / "opportunity.csv").read_bytes().startswith(b'"ID","ACC')
    summary = run_build(landing, tmp_path / "formats.duckdb")
    assert_same_marts(demo_build.warehouse, summary.warehouse)
    with duckdb.connect(str(summary.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.rejects").fetchone()[0] == 0
        # The relationship column is kept as an extra column, in its spelling.
        assert con.execute(
            'select count("ACCOUNT.NAME") from raw.opportunity where _snapshot_date = ?',
            [SNAPSHOTS[0]],
        ).fetchone()[0] == len(formats.read_canonical(
            DEMO_LANDING / SNAPSHOTS[0] / "Opportunity.csv")[1])  # fmt: skip


def _data_export_landing(root: Path, org_time_zone: str) -> Path:
    landing = root / "landing"
    for snapshot in SNAPSHOTS:
        target = landing / snapshot
        target.mkdir(parents=True)
        formats.data_export_zip(DEMO_LANDING / snapshot, target, org_time_zone)
    return landing


def _build_in(time_zone: str, landing: Path, warehouse: Path, org_time_zone: str) -> str:
    """`recurwise build` in a process whose local time zone is `time_zone`."""
    result = subprocess.run(
        [RECURWISE, "build", "--landing", str(landing), "--warehouse", str(warehouse),
         "--set", "export_encoding=iso-8859-1", "--set", f"org_time_zone={org_time_zone}"],
        env={**os.environ, "TZ": time_zone},
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def test_data_export_zip_builds_the_canonical_marts_in_any_machine_time_zone(demo_build, tmp_path):
    """The weekly Data Export (ZIP, ISO-8859-1, zone-less date-times in the org's zone,
    0/1 booleans, null lookups, PricebookEntry, User name parts), built on machines in New
    York and in Tokyo: both equal the canonical marts."""
    # No daylight saving time: an hour repeated when clocks go back cannot be told apart
    # in a zone-less export (README); +05:30 shows the zone is the org's, not the machine's.
    org_time_zone = "Asia/Kolkata"
    landing = _data_export_landing(tmp_path, org_time_zone)
    new_york, tokyo = tmp_path / "new_york.duckdb", tmp_path / "tokyo.duckdb"
    output = _build_in("America/New_York", landing, new_york, org_time_zone)
    _build_in("Asia/Tokyo", landing, tokyo, org_time_zone)
    assert_same_marts(demo_build.warehouse, new_york)
    assert_same_marts(demo_build.warehouse, tokyo)
    # Lead.csv names no object this warehouse reads: reported, not silently ignored.
    assert "no CRM object, not loaded: WE_00D5g000000demo_1.ZIP!Lead.csv" in " ".join(
        output.split()
    )
    with duckdb.connect(str(tokyo), read_only=True) as con:
        created = con.execute('select min("CreatedDate") from raw.opportunity').fetchone()[0]
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as con:
        assert (
            created == con.execute('select min("CreatedDate") from raw.opportunity').fetchone()[0]
        )


@pytest.mark.parametrize(
    ("text", "written"),
    [("7.00", "7.0"), ("2212.50", "2212.5"), ("80000000", "8.0E7"), ("12345678.9", "1.23456789E7")],
)
def test_java_number_spelling(text, written):
    assert formats.java_number(text) == written
