"""The renewals CSV export (SPEC 4.10) has exactly the Data Loader's columns."""

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.renewals_export import export_renewals

HEADER = "AccountId,Name,Type,StageName,CloseDate,Amount"


def make_warehouse(path: Path, rows: list[tuple]) -> Path:
    """A tiny DuckDB file holding only marts.renewal_opportunities_to_create."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            'create table marts.renewal_opportunities_to_create ("AccountId" varchar, '
            '"Name" varchar, "Type" varchar, "StageName" varchar, "CloseDate" date, '
            '"Amount" decimal(18, 2))'
        )
        if rows:
            con.executemany(
                "insert into marts.renewal_opportunities_to_create values (?, ?, ?, ?, ?, ?)",
                rows,
            )
    return path


@pytest.fixture()
def warehouse(tmp_path) -> Path:
    return make_warehouse(
        tmp_path / "warehouse.duckdb",
        [
            (
                "001B",
                "Beta, Inc. - Renewal 2026-12-31",
                "Renewal",
                "Prospecting",
                date(2026, 12, 31),
                Decimal("4200.00"),
            ),
            (
                "001A",
                'Acme "Cloud" - Renewal 2026-11-30',
                "Renewal",
                "Prospecting",
                date(2026, 11, 30),
                Decimal("20832.36"),
            ),
        ],
    )


def test_header_is_exactly_the_data_loader_columns(warehouse, tmp_path):
    out = tmp_path / "exports" / "renewals.csv"
    assert export_renewals(warehouse, out) == 2
    lines = out.read_bytes().decode("utf-8").splitlines()
    assert lines[0] == HEADER
    assert len(lines) == 3


def test_rows_are_quoted_and_ordered_by_close_date(warehouse, tmp_path):
    out = tmp_path / "renewals.csv"
    export_renewals(warehouse, out)
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {
            "AccountId": "001A",
            "Name": 'Acme "Cloud" - Renewal 2026-11-30',
            "Type": "Renewal",
            "StageName": "Prospecting",
            "CloseDate": "2026-11-30",
            "Amount": "20832.36",
        },
        {
            "AccountId": "001B",
            "Name": "Beta, Inc. - Renewal 2026-12-31",
            "Type": "Renewal",
            "StageName": "Prospecting",
            "CloseDate": "2026-12-31",
            "Amount": "4200.00",
        },
    ]


def test_nothing_to_create_writes_the_header_only(tmp_path):
    warehouse = make_warehouse(tmp_path / "empty.duckdb", [])
    out = tmp_path / "renewals.csv"
    assert export_renewals(warehouse, out) == 0
    assert out.read_text(encoding="utf-8").splitlines() == [HEADER]


def test_the_warehouse_is_opened_read_only(warehouse, tmp_path):
    # Another reader holding the file read-only does not block the export.
    with duckdb.connect(str(warehouse), read_only=True):
        assert export_renewals(warehouse, tmp_path / "renewals.csv") == 2
