"""Exporting a mart (issue 9): csv, parquet and xlsx read back equal to the mart."""

import csv
from datetime import date, datetime
from decimal import Decimal

import duckdb
import openpyxl
import pyarrow.parquet as pq
import pytest

from dagster_project.lib.export import ExportError, export_mart

# Text, dates, timestamps, booleans, decimals and nulls: every kind of cell a mart has.
MART = "fct_opportunities"


@pytest.fixture(scope="module")
def mart(demo_build):
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as con:
        result = con.execute(f"select * from marts.{MART} order by opportunity_id")
        columns = [c[0] for c in result.description]
        rows = result.fetchall()
    return columns, rows


def test_csv_reads_back_as_the_mart(demo_build, mart, tmp_path):
    columns, rows = mart
    out = tmp_path / f"{MART}.csv"
    assert export_mart(demo_build.warehouse, MART, "csv", out) == len(rows)
    with out.open(newline="", encoding="utf-8") as f:
        read = list(csv.reader(f))
    assert read[0] == columns
    assert len(read) - 1 == len(rows)
    ids = sorted(line[columns.index("opportunity_id")] for line in read[1:])
    assert ids == [row[0] for row in rows]


def test_parquet_reads_back_as_the_mart(demo_build, mart, tmp_path):
    columns, rows = mart
    out = tmp_path / f"{MART}.parquet"
    assert export_mart(demo_build.warehouse, f"marts.{MART}", "parquet", out) == len(rows)
    table = pq.read_table(out).sort_by("opportunity_id")
    assert table.column_names == columns
    assert table.num_rows == len(rows)
    assert [tuple(r.values()) for r in table.to_pylist()] == rows


def test_xlsx_reads_back_as_the_mart(demo_build, mart, tmp_path):
    columns, rows = mart
    out = tmp_path / f"{MART}.xlsx"
    assert export_mart(demo_build.warehouse, MART, "XLSX", out) == len(rows)
    sheet = openpyxl.load_workbook(out, read_only=True).worksheets[0]
    read = list(sheet.iter_rows(values_only=True))
    assert list(read[0]) == columns
    assert len(read) - 1 == len(rows)
    by_id = {line[0]: line for line in read[1:]}
    for row in rows:
        for expected, cell in zip(row, by_id[row[0]], strict=True):
            if isinstance(expected, Decimal):
                assert cell == pytest.approx(float(expected))
            elif isinstance(expected, date) and not isinstance(expected, datetime):
                assert cell == datetime.combine(expected, datetime.min.time())
            else:
                assert cell == expected


def test_xlsx_keeps_crm_text_as_text(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.notes as select * from (values "
            "('=HYPERLINK(\"http://example.invalid\")', 'https://example.invalid', '00123'))"
            " t(formula_like, url_like, number_like)"
        )
    out = tmp_path / "notes.xlsx"
    assert export_mart(warehouse, "notes", "xlsx", out) == 1
    sheet = openpyxl.load_workbook(out).worksheets[0]
    assert [c.data_type for c in sheet[2]] == ["s", "s", "s"]
    assert sheet["C2"].value == "00123"


def test_unknown_mart_lists_the_marts(demo_build, tmp_path):
    out = tmp_path / "x.csv"
    with pytest.raises(ExportError) as caught:
        export_mart(demo_build.warehouse, "fct_oportunities", "csv", out)
    message = str(caught.value)
    assert "no mart named 'fct_oportunities'" in message
    assert "Did you mean fct_opportunities?" in message
    assert "dim_accounts" in message and "fct_mrr_monthly" in message
    assert not out.exists()
    # Only a mart name reaches SQL: a table of another schema is not a mart.
    with pytest.raises(ExportError, match="no mart named"):
        export_mart(demo_build.warehouse, "raw.opportunity", "csv", out)


def test_other_mistakes_are_clear_errors(demo_build, tmp_path):
    with pytest.raises(ExportError, match="unknown format 'json': choose one of csv"):
        export_mart(demo_build.warehouse, MART, "json", tmp_path / "x.json")
    with pytest.raises(ExportError, match="does not exist"):
        export_mart(tmp_path / "nope.duckdb", MART, "csv", tmp_path / "x.csv")
    with pytest.raises(ExportError, match="folder .* does not exist"):
        export_mart(demo_build.warehouse, MART, "csv", tmp_path / "no" / "x.csv")
    assert issubclass(ExportError, ValueError)
