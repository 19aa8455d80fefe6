"""Ingest never loses a row: every data row is loaded or rejected with a reason (SPEC 3)."""

import csv
import io
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.lib.crm_schema import OBJECTS_BY_NAME
from dagster_project.lib.ingest.errors import FileLevelError
from dagster_project.lib.ingest.landing import ExportFile
from dagster_project.lib.ingest.load import IngestOptions, load_file, load_snapshot
from dagster_project.lib.ingest.raw_schema import ensure_raw_schema

SNAPSHOT = date(2026, 1, 5)
OPP_HEADER = "Id,AccountId,Name,StageName,CloseDate,IsClosed,IsWon,CreatedDate"
GOOD_OPP = "006A,001A,Deal,Prospecting,2026-02-01,false,false,2026-01-01T10:00:00Z"


def load(tmp_path: Path, object_name: str, content: bytes | str, suffix: str = ".csv"):
    """Load one file of `object_name`; return the result, loaded rows and rejects."""
    folder = tmp_path / SNAPSHOT.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{object_name}{suffix}"
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    con = duckdb.connect()
    ensure_raw_schema(con)
    obj = OBJECTS_BY_NAME[object_name]
    result = load_file(con, obj, SNAPSHOT, path, "test-load")
    rows = con.sql(f"select * from raw.{obj.table} order by _line_number").pl()
    rejects = con.sql("select * from raw.rejects order by line_number").pl()
    assert result.rows_loaded + result.rows_rejected == result.rows_in_file
    assert (len(rows), len(rejects)) == (result.rows_loaded, result.rows_rejected)
    return result, rows, rejects


def opp_file(*rows: str, header: str = OPP_HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


# (case, file content, expected loaded rows, expected reason fragments of the rejects)
BAD_ROW_CASES = [
    (
        "missing required value",
        opp_file("006B,,Deal,Prospecting,2026-02-01,false,false,2026-01-01"),
        0,
        ["missing required field AccountId"],
    ),
    (
        "impossible date",
        opp_file(GOOD_OPP, "006B,001A,D,Prospecting,2024-13-01,false,false,2026-01-01"),
        1,
        ["CloseDate 2024-13-01 is not a date (YYYY-MM-DD)"],
    ),
    (
        "date in another format",
        opp_file("006B,001A,D,Prospecting,01/02/2024,false,false,2026-01-01"),
        0,
        ["CloseDate 01/02/2024 is not a date"],
    ),
    (
        "number that is text",
        opp_file(
            "006B,001A,D,Prospecting,2026-02-01,false,false,2026-01-01,abc",
            header=OPP_HEADER + ",Amount",
        ),
        0,
        ["Amount abc is not a number"],
    ),
    (
        "boolean yes",
        opp_file("006B,001A,D,Prospecting,2026-02-01,yes,false,2026-01-01"),
        0,
        ["IsClosed yes is not a boolean"],
    ),
    (
        "bad date-time",
        opp_file("006B,001A,D,Prospecting,2026-02-01,false,false,yesterday"),
        0,
        ["CreatedDate yesterday is not a date-time"],
    ),
    (
        "whole number with decimals",
        opp_file(
            "006B,001A,D,Prospecting,2026-02-01,false,false,2026-01-01,12.5",
            header=OPP_HEADER + ",Term_Months__c",
        ),
        0,
        ["Term_Months__c 12.5 is not a whole number"],
    ),
    (
        "picklist value unknown",
        opp_file(
            "006B,001A,D,Prospecting,2026-02-01,false,false,2026-01-01,Maybe",
            header=OPP_HEADER + ",ForecastCategoryName",
        ),
        0,
        ["ForecastCategoryName Maybe is not one of Pipeline, Best Case, Commit, Closed, Omitted"],
    ),
    (
        "duplicate Id",
        opp_file(GOOD_OPP, GOOD_OPP.replace("Deal", "Copy")),
        0,
        ["duplicate Id 006A in this file (2 rows)", "duplicate Id 006A in this file (2 rows)"],
    ),
    (
        "too many fields",
        opp_file(GOOD_OPP, "006B,001A,D,Prospecting,2026-02-01,false,false,2026-01-01,x"),
        1,
        ["too many fields"],
    ),
    ("too few fields", opp_file("006B,001A,D", GOOD_OPP), 1, ["too few fields"]),
    (
        "blank required value",
        opp_file("006B,001A,   ,Prospecting,2026-02-01,false,false,2026-01-01"),
        0,
        ["missing required field Name"],
    ),
    (
        "two problems in one row",
        opp_file("006B,,D,Prospecting,2026-99-01,false,false,2026-01-01"),
        0,
        ["missing required field AccountId; CloseDate 2026-99-01 is not a date"],
    ),
    ("unterminated quote", opp_file(GOOD_OPP, '006B,001A,"never closed,Prospecting'), 1, ["quote"]),
]


@pytest.mark.parametrize(
    ("case", "content", "loaded", "reasons"), BAD_ROW_CASES, ids=[c[0] for c in BAD_ROW_CASES]
)
def test_bad_rows_are_rejected_with_a_reason(tmp_path, case, content, loaded, reasons):
    result, rows, rejects = load(tmp_path, "Opportunity", content)
    assert result.rows_loaded == loaded
    assert len(rejects) == len(reasons)
    for reason, fragment in zip(rejects["reason"].to_list(), reasons, strict=True):
        assert fragment.lower() in reason.lower()
    assert set(rejects["object_name"]) <= {"Opportunity"}
    assert rejects["line_number"].null_count() == 0


def test_invalid_utf8_row_is_rejected(tmp_path):
    content = (
        opp_file(GOOD_OPP) + "006B,001A,Caf\xe9,Prospecting,2026-02-01,false,false,2026-01-01\n"
    ).encode("utf-8")
    content = content.replace(b"Caf\xc3\xa9", b"Caf\xe9")
    result, rows, rejects = load(tmp_path, "Opportunity", content)
    assert result.rows_loaded == 1 and result.rows_rejected == 1
    assert rejects["reason"][0] == "the line is not valid UTF-8"


def test_line_numbers_point_at_the_file_lines(tmp_path):
    content = opp_file(
        GOOD_OPP,
        "006B,001A,D",
        GOOD_OPP.replace("006A", "006C"),
        "006D,,D,Prospecting,2026-02-01,false,false,2026-01-01",
    )
    _, rows, rejects = load(tmp_path, "Opportunity", content)
    assert rows.select("Id", "_line_number").rows() == [("006A", 2), ("006C", 4)]
    assert sorted(rejects["line_number"].to_list()) == [3, 5]


ACCEPTED_CASES = [
    ("byte order mark", "\ufeff" + opp_file(GOOD_OPP)),
    (
        "quoted newline and comma",
        opp_file('006A,001A,"Deal, phase 1\nand 2",Prospecting,2026-02-01,false,false,2026-01-01'),
    ),
    ("CRLF line ends", opp_file(GOOD_OPP).replace("\n", "\r\n")),
    (
        "booleans TRUE, 1 and True",
        opp_file(
            "006A,001A,D,Closed Won,2026-02-01,TRUE,1,2026-01-01",
            "006B,001A,D,Closed Lost,2026-02-01,True,0,2026-01-01",
        ),
    ),
    (
        "date-time with offset",
        opp_file("006A,001A,D,Prospecting,2026-02-01,false,false,2026-01-01T10:00:00+02:00"),
    ),
    (
        "empty optional fields",
        opp_file(
            "006A,001A,D,Prospecting,2026-02-01,false,false,2026-01-01,,",
            header=OPP_HEADER + ",Amount,Type",
        ),
    ),
]


@pytest.mark.parametrize(("case", "content"), ACCEPTED_CASES, ids=[c[0] for c in ACCEPTED_CASES])
def test_valid_variants_are_loaded(tmp_path, case, content):
    result, rows, rejects = load(tmp_path, "Opportunity", content)
    assert result.rows_rejected == 0, rejects["reason"].to_list()
    assert result.rows_loaded == content.count("006")


def test_values_are_typed(tmp_path):
    _, rows, _ = load(tmp_path, "Opportunity", ACCEPTED_CASES[3][1])
    assert rows.select("IsClosed", "IsWon").rows() == [(True, True), (True, False)]
    _, rows, _ = load(tmp_path / "b", "Opportunity", ACCEPTED_CASES[4][1])
    assert str(rows["CreatedDate"][0]) == "2026-01-01 08:00:00"  # stored as UTC
    assert rows["CloseDate"][0] == date(2026, 2, 1)


def test_extra_columns_are_kept(tmp_path):
    content = opp_file(GOOD_OPP + ",blue", header=OPP_HEADER + ",Favourite_Colour__c")
    result, rows, _ = load(tmp_path, "Opportunity", content)
    assert result.extra_columns == ("Favourite_Colour__c",)
    assert rows["Favourite_Colour__c"].to_list() == ["blue"]


def test_parquet_files_are_accepted(tmp_path):
    buffer = io.BytesIO()
    pl.read_csv(io.StringIO(opp_file(GOOD_OPP)), infer_schema=False).write_parquet(buffer)
    result, rows, _ = load(tmp_path, "Opportunity", buffer.getvalue(), suffix=".parquet")
    assert result.rows_loaded == 1 and rows["IsWon"][0] is False


FILE_LEVEL_CASES = [
    (
        "required column missing",
        opp_file(GOOD_OPP, header=OPP_HEADER.replace(",CloseDate", "")),
        "required column CloseDate is missing",
    ),
    ("empty file", "", "the file is empty"),
    (
        "column twice",
        opp_file(GOOD_OPP + ",x", header=OPP_HEADER + ",Name"),
        "column Name appears twice",
    ),
]


@pytest.mark.parametrize(
    ("case", "content", "message"), FILE_LEVEL_CASES, ids=[c[0] for c in FILE_LEVEL_CASES]
)
def test_file_level_problems_name_the_file_and_column(tmp_path, case, content, message):
    with pytest.raises(FileLevelError, match=message) as error:
        load(tmp_path, "Opportunity", content)
    assert "Opportunity.csv" in str(error.value)


def test_same_file_twice_is_loaded_once_and_a_new_version_replaces_it(tmp_path):
    folder = tmp_path / SNAPSHOT.isoformat()
    folder.mkdir()
    path = folder / "Opportunity.csv"
    path.write_text(opp_file(GOOD_OPP))
    con = duckdb.connect()
    ensure_raw_schema(con)
    obj = OBJECTS_BY_NAME["Opportunity"]
    assert not load_file(con, obj, SNAPSHOT, path, "a").skipped
    assert load_file(con, obj, SNAPSHOT, path, "b").skipped
    path.write_text(opp_file(GOOD_OPP, GOOD_OPP.replace("006A", "006B")))
    assert load_file(con, obj, SNAPSHOT, path, "c").rows_loaded == 2
    assert con.execute("select count(*) from raw.opportunity").fetchone()[0] == 2


# Random records written by a real CSV writer: values with quotes, commas, newlines and
# junk, and a random number of fields per record. Whatever they hold, each record is
# loaded or rejected, never lost, and nothing but a FileLevelError escapes.
field_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
plausible = st.sampled_from(["", "006A", "true", "0", "2026-02-01", "12.5", "Closed Won", "x,y"])
record = st.lists(st.one_of(field_text, plausible), min_size=5, max_size=11)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=st.lists(record, max_size=8))
def test_random_csv_content_never_loses_a_row(tmp_path_factory, records):
    buffer = io.StringIO()
    # CRLF records: the writer then quotes any value holding a bare CR or LF.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        ["Id", "AccountId", "Name", "StageName", "CloseDate", "IsClosed", "IsWon", "CreatedDate"]
    )
    writer.writerows(records)
    tmp_path = tmp_path_factory.mktemp("random")
    try:
        result, _, _ = load(tmp_path, "Opportunity", buffer.getvalue())
    except FileLevelError:
        return
    assert result.rows_in_file == len(records)


def test_a_snapshot_without_a_required_file_or_with_a_link_out_of_its_folder_stops(tmp_path):
    folder = tmp_path / SNAPSHOT.isoformat()
    folder.mkdir()
    outside = tmp_path / "elsewhere.csv"
    outside.write_text(opp_file(GOOD_OPP))
    (folder / "Opportunity.csv").symlink_to(outside)
    con = duckdb.connect()
    ensure_raw_schema(con)
    opportunity, user = OBJECTS_BY_NAME["Opportunity"], OBJECTS_BY_NAME["User"]
    with pytest.raises(FileLevelError, match="is missing from snapshot 2026-01-05"):
        load_snapshot(con, opportunity, SNAPSHOT, folder, None, "test-load", IngestOptions())
    export = ExportFile(folder / "Opportunity.csv")
    with pytest.raises(FileLevelError, match="a symbolic link to a file outside snapshot folder"):
        load_snapshot(con, opportunity, SNAPSHOT, folder, export, "test-load", IngestOptions())
    assert con.execute("select count(*) from raw._loads").fetchone()[0] == 0
    # An optional object without a file is an empty snapshot, recorded like a load.
    result = load_snapshot(con, user, SNAPSHOT, folder, None, "test-load", IngestOptions())
    assert (result.rows_in_file, result.source_file, result.skipped) == (0, "", False)
    assert con.execute("select object_name, rows_loaded from raw._loads").fetchall() == [
        ("User", 0)
    ]
