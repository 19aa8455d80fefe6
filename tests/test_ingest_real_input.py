"""Real deliveries: damaged files, other tools' spellings, encodings, ZIPs, folder names and
the delivery gates (SPEC 2.1, 3). Counts are checked against what the test wrote, never
against what ingest reports about itself."""

import csv
import io
import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.build.errors import BuildError
from dagster_project.build.run import DEMO_LANDING, run_build
from dagster_project.lib.crm_schema import OBJECTS_BY_NAME
from dagster_project.lib.ingest.delivery import DeliveryLimits, delivery_problems
from dagster_project.lib.ingest.errors import FileLevelError
from dagster_project.lib.ingest.landing import list_snapshots, scan_landing, snapshot_files
from dagster_project.lib.ingest.load import IngestOptions, load_absent, load_file
from dagster_project.lib.ingest.raw_schema import ensure_raw_schema

SNAPSHOT = date(2026, 1, 5)
OPPORTUNITY = OBJECTS_BY_NAME["Opportunity"]
HEADER = ["Id", "AccountId", "Name", "StageName", "CloseDate", "IsClosed", "IsWon", "CreatedDate"]


def opportunity(i: int, name: str = "") -> list[str]:
    return [f"006{i:015d}", "001000000000000001", name or f"Deal {i}", "Prospecting",
            "2026-02-01", "false", "false", "2026-01-01T10:00:00Z"]  # fmt: skip


def write_csv(path: Path, rows: list[list[str]], header=HEADER, encoding="utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_raw_schema(con)
    return con


def loaded_ids(con) -> set[str]:
    return {r[0] for r in con.execute("select Id from raw.opportunity").fetchall()}


def rejects(con) -> list[tuple[int, str]]:
    return con.execute("select line_number, reason from raw.rejects order by 1").fetchall()


def test_a_stray_quote_and_a_huge_field_in_100k_rows_lose_only_their_own_lines(tmp_path):
    rows = [opportunity(i) for i in range(100_000)]
    lines = "\n".join(",".join(r) for r in rows).split("\n")
    # Line 50,001 (record 50,000): a Name that opens a quote and never closes it. Line
    # 70,001: a 50 MB quoted Name. Written by hand: a CSV writer would quote them right.
    lines[49_999] = lines[49_999].replace("Deal 49999", '"Acme Corp')
    lines[69_999] = lines[69_999].replace("Deal 69999", '"' + "x" * 50_000_000 + '"')
    path = tmp_path / "Opportunity.csv"
    path.write_text(",".join(HEADER) + "\n" + "\n".join(lines) + "\n")
    con = connect()
    result = load_file(con, OPPORTUNITY, SNAPSHOT, path, "load")
    assert (result.rows_in_file, result.rows_loaded, result.rows_rejected) == (100_000, 99_998, 2)
    assert loaded_ids(con) == {r[0] for r in rows} - {rows[49_999][0], rows[69_999][0]}
    (stray_line, stray), (huge_line, huge) = rejects(con)
    assert (stray_line, huge_line) == (50_001, 70_001)
    assert stray.startswith("stray quote")
    assert huge == (
        "a field longer than 131,072 characters, more than Salesforce stores in one field"
    )
    # The reject keeps the start of the line, never 50 MB.
    assert con.execute("select max(length(raw_values)) from raw.rejects").fetchone()[0] < 200


def test_a_stray_quote_closed_two_lines_later_loses_only_its_line(tmp_path):
    """The quote opened on line 3 is closed by a quote inside a value on line 5: the lines
    between read as one 8-field record unless the scan looks at them."""
    rows = [opportunity(i) for i in range(6)]
    lines = [",".join(r) for r in rows]
    lines[1] = lines[1].replace("Deal 1", '"Acme')
    lines[3] = lines[3].replace("Deal 3", 'Deal "3')
    path = tmp_path / "Opportunity.csv"
    path.write_text(",".join(HEADER) + "\n" + "\n".join(lines) + "\n")
    con = connect()
    result = load_file(con, OPPORTUNITY, SNAPSHOT, path, "load")
    assert (result.rows_in_file, result.rows_loaded, result.rows_rejected) == (6, 5, 1)
    assert loaded_ids(con) == {r[0] for r in rows} - {rows[1][0]}
    assert [line for line, _ in rejects(con)] == [3]


def test_line_numbers_after_rejects_of_the_reader_and_of_the_rules(tmp_path):
    """Invalid UTF-8 on lines 3-5 (rejected by DuckDB), bad dates on lines 6 and 8 (by the
    typing rules): every reject and every loaded row keeps its own line."""
    rows = [opportunity(i) for i in range(8)]
    for i in (4, 6):
        rows[i][4] = "2026-13-01"
    path = write_csv(tmp_path / "Opportunity.csv", rows)
    content = path.read_bytes()
    for i in (1, 2, 3):
        content = content.replace(f"Deal {i},".encode(), f"Deal \xff{i},".encode("latin-1"))
    path.write_bytes(content)
    con = connect()
    load_file(con, OPPORTUNITY, SNAPSHOT, path, "load")
    assert [line for line, _ in rejects(con)] == [3, 4, 5, 6, 8]
    loaded = con.execute("select Id, _line_number from raw.opportunity order by 2").fetchall()
    assert loaded == [(rows[0][0], 2), (rows[5][0], 7), (rows[7][0], 9)]


def test_line_items_are_loaded_again_when_their_pricebook_is_redelivered(tmp_path):
    con = connect()
    entry, item = OBJECTS_BY_NAME["PricebookEntry"], OBJECTS_BY_NAME["OpportunityLineItem"]
    header = ["Id", "OpportunityId", "PricebookEntryId", "Quantity", "UnitPrice"]
    items = write_csv(tmp_path / "items.csv", [["00kA", "006A", "01uA", "1", "10"]], header)
    for product in ("01tOLD", "01tNEW"):
        entries = write_csv(tmp_path / f"{product}.csv", [["01uA", product]],
                            header=["Id", "Product2Id"])  # fmt: skip
        load_file(con, entry, SNAPSHOT, entries, "l")
        load_file(con, item, SNAPSHOT, items, "l")
    assert con.execute("select Product2Id from raw.opportunity_line_item").fetchall() == [
        ("01tNEW",)
    ]


def test_two_stray_quotes_reject_their_two_lines_only(tmp_path):
    rows = [opportunity(i) for i in range(30)]
    lines = [",".join(r) for r in rows]
    for at in (9, 19):  # the second quote would close the first one's "field"
        lines[at] = lines[at].replace(f"Deal {at}", f'"Stray {at}')
    path = tmp_path / "Opportunity.csv"
    path.write_text(",".join(HEADER) + "\n" + "\n".join(lines) + "\n")
    con = connect()
    result = load_file(con, OPPORTUNITY, SNAPSHOT, path, "load")
    assert (result.rows_loaded, result.rows_rejected) == (28, 2)
    assert [line for line, _ in rejects(con)] == [11, 21]
    assert loaded_ids(con) == {r[0] for r in rows} - {rows[9][0], rows[19][0]}


def test_line_numbers_count_lines_of_the_file_after_multi_line_values(tmp_path):
    rows = [opportunity(0, "two\nlines"), opportunity(1), ["006B", "", "x", "Prospecting",
            "2026-02-01", "false", "false", "2026-01-01"], opportunity(3)]  # fmt: skip
    path = write_csv(tmp_path / "Opportunity.csv", rows)
    con = connect()
    load_file(con, OPPORTUNITY, SNAPSHOT, path, "load")
    assert rejects(con) == [(5, "missing required field AccountId")]  # header 1, value 2-3
    lines = con.execute("select _line_number from raw.opportunity order by 1").fetchall()
    assert [r[0] for r in lines] == [2, 4, 6]


def test_data_loader_upper_case_headers_load_and_one_column_twice_is_named(tmp_path):
    path = write_csv(tmp_path / "a" / "Opportunity.csv", [opportunity(1)],
                     header=[h.upper() for h in HEADER])  # fmt: skip
    con = connect()
    assert load_file(con, OPPORTUNITY, SNAPSHOT, path, "load").rows_loaded == 1
    assert con.execute("select Name, IsClosed from raw.opportunity").fetchall() == [
        ("Deal 1", False)
    ]
    twice = write_csv(tmp_path / "b" / "Opportunity.csv", [[*opportunity(1), "x"]],
                      header=[*HEADER, "NAME"])  # fmt: skip
    with pytest.raises(FileLevelError, match="column Name appears twice in the header"):
        load_file(connect(), OPPORTUNITY, SNAPSHOT, twice, "load")


def salesforce_id18(id15: str) -> str:
    """Salesforce's case-safe suffix, written out here independently of ingest's SQL."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, c in enumerate(id15[chunk * 5 : chunk * 5 + 5]) if c.isupper())
        suffix += alphabet[bits]
    return id15 + suffix


VALUE_CASES = [
    # (column, value written, value stored or None, reason fragment of a reject)
    ("CloseDate", "infinity", None, "CloseDate infinity is not a date"),
    ("CloseDate", "epoch", None, "CloseDate epoch is not a date"),
    ("CreatedDate", "Infinity", None, "CreatedDate Infinity is not a date-time"),
    ("CloseDate", "2024-02-05 00:00:00", date(2024, 2, 5), None),
    ("CloseDate", "2024-02-05 10:30:00", None, "is not a date"),
    ("IsClosed", "", False, None),
    ("AccountId", "000000000000000AAA", None, "missing required field AccountId"),
    ("AccountId", "  001000000000000001 ", "001000000000000001", None),
    ("AccountId", "001Dn00000AbCdE", salesforce_id18("001Dn00000AbCdE"), None),
    ("CreatedDate", "2024-01-06T11:25:00.000+0000", datetime(2024, 1, 6, 11, 25), None),
]


@pytest.mark.parametrize(("column", "written", "stored", "reason"), VALUE_CASES)
def test_values_as_salesforce_tools_write_them(tmp_path, column, written, stored, reason):
    row = opportunity(1)
    row[HEADER.index(column)] = written
    con = connect()
    load_file(con, OPPORTUNITY, SNAPSHOT, write_csv(tmp_path / "Opportunity.csv", [row]), "l")
    if reason is None:
        assert con.execute(f'select "{column}" from raw.opportunity').fetchall() == [(stored,)]
    else:
        assert reason in rejects(con)[0][1]


def test_numbers_in_java_and_e_notation(tmp_path):
    header = [*HEADER, "Amount", "Term_Months__c"]
    rows = [[*opportunity(1), "8.0E7", "12.0"], [*opportunity(2), "1.25E3", "1.2E1"]]
    con = connect()
    load_file(con, OPPORTUNITY, SNAPSHOT, write_csv(tmp_path / "O.csv", rows, header), "l")
    assert con.execute(
        'select Amount::varchar, "Term_Months__c" from raw.opportunity order by Id'
    ).fetchall() == [("80000000.0000", 12), ("1250.0000", 12)]


def test_zone_less_date_times_are_in_the_org_time_zone(tmp_path):
    row = opportunity(1)
    row[HEADER.index("CreatedDate")] = "2026-01-01 10:00:00"
    path = write_csv(tmp_path / "Opportunity.csv", [row])
    stored = {}
    for zone in ("UTC", "America/New_York", "Asia/Tokyo"):
        con = connect()
        load_file(con, OPPORTUNITY, SNAPSHOT, path, "l", IngestOptions(org_time_zone=zone))
        stored[zone] = con.execute("select CreatedDate from raw.opportunity").fetchone()[0]
    assert stored == {
        "UTC": datetime(2026, 1, 1, 10),
        "America/New_York": datetime(2026, 1, 1, 15),
        "Asia/Tokyo": datetime(2026, 1, 1, 1),
    }


@pytest.mark.parametrize("encoding", ["iso-8859-1", "windows-1252", "utf-16"])
def test_exports_in_other_encodings(tmp_path, encoding):
    python = {"iso-8859-1": "latin-1", "windows-1252": "cp1252", "utf-16": "utf-16"}[encoding]
    path = write_csv(tmp_path / "Opportunity.csv", [opportunity(1, "Café Müller")],
                     encoding=python)  # fmt: skip
    con = connect()
    load_file(con, OPPORTUNITY, SNAPSHOT, path, "l", IngestOptions(encoding=encoding))
    assert con.execute("select Name from raw.opportunity").fetchall() == [("Café Müller",)]


def test_a_line_that_does_not_decode_is_rejected_with_its_line(tmp_path):
    path = write_csv(tmp_path / "Opportunity.csv", [opportunity(1), opportunity(2, "Bad")],
                     encoding="cp1252")  # fmt: skip
    path.write_bytes(path.read_bytes().replace(b"Bad", b"B\x81d"))  # 0x81: no cp1252 char
    con = connect()
    result = load_file(con, OPPORTUNITY, SNAPSHOT, path, "l", IngestOptions("windows-1252"))
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert rejects(con) == [(3, "the line does not decode as cp1252")]


def test_snapshot_files_match_names_in_any_case_and_read_zips(tmp_path):
    folder = tmp_path / "2026-01-05"
    write_csv(folder / "opportunity.CSV", [opportunity(1)])
    write_csv(folder / "contract.csv", [], header=["Id"])
    with zipfile.ZipFile(folder / "WE_00D_1.ZIP", "w") as archive:
        archive.writestr("Account.csv", "Id,Name,CreatedDate\n001A,Acme,2026-01-01\n")
        archive.writestr("Lead.csv", "Id\n00Q1\n")
    (folder / "notes.txt").write_text("hello")
    found = snapshot_files(folder)
    assert sorted(found.files) == ["Account", "Contract", "Opportunity"]
    assert found.files["Account"].name.endswith("WE_00D_1.ZIP!Account.csv")
    assert sorted(Path(n).name for n in found.ignored) == ["WE_00D_1.ZIP!Lead.csv", "notes.txt"]
    con = connect()
    result = load_file(con, OBJECTS_BY_NAME["Account"], SNAPSHOT, found.files["Account"], "l")
    assert result.rows_loaded == 1
    write_csv(folder / "Opportunity.csv", [opportunity(1)])
    with pytest.raises(FileLevelError, match="2 files for Opportunity"):
        snapshot_files(folder)


def test_folder_names_that_are_no_date_are_reported_and_one_date_spelled_twice_stops(tmp_path):
    for name in ("2026-11-15", "latest", "2026-02-30"):
        write_csv(tmp_path / name / "Opportunity.csv", [opportunity(1)])
    assert list(list_snapshots(tmp_path)) == [date(2026, 11, 15)]
    assert scan_landing(tmp_path).warnings == [
        f"{tmp_path}: not snapshot folders (name them YYYY-MM-DD), not loaded: 2026-02-30/, latest/"
    ]
    write_csv(tmp_path / "20261116" / "Opportunity.csv", [opportunity(1)])
    assert list(list_snapshots(tmp_path)) == [date(2026, 11, 15), date(2026, 11, 16)]
    write_csv(tmp_path / "2026-11-16" / "Opportunity.csv", [opportunity(1)])
    with pytest.raises(FileLevelError, match="two folders name snapshot 2026-11-16: "):
        list_snapshots(tmp_path)


def test_delivery_gates_name_object_snapshot_and_counts(tmp_path):
    con = connect()
    limits = DeliveryLimits()
    day = [date(2026, 1, d) for d in (5, 6, 7, 8)]

    def deliver(snapshot: date, rows: list[list[str]]):
        path = write_csv(tmp_path / str(snapshot) / "Opportunity.csv", rows)
        result = load_file(con, OPPORTUNITY, snapshot, path, "l")
        return delivery_problems(con, OPPORTUNITY, result, limits)

    assert deliver(day[0], [opportunity(i) for i in range(10)]) == []
    assert deliver(day[1], [opportunity(i) for i in range(6)]) == []  # down 40%: fine
    assert deliver(day[2], []) == [
        f"Opportunity, snapshot {day[2]}: {tmp_path / str(day[2]) / 'Opportunity.csv'} has no "
        "rows (a required object must have rows)",
        f"Opportunity, snapshot {day[2]}: 0 rows loaded, 6 on {day[1]} (down 100%, more than "
        "max_row_drop_pct 50%)",
    ]
    bad = [opportunity(i) for i in range(6)]
    for row in bad[:1]:
        row[4] = "05/02/2026"
    assert deliver(day[3], bad) == [
        f"Opportunity, snapshot {day[3]}: 1 of 6 rows of "
        f"{tmp_path / str(day[3]) / 'Opportunity.csv'} rejected (17%, more than "
        "max_reject_pct 5%); see raw.rejects"
    ]
    # An optional object gone from one day counts as empty against the day before.
    contract = OBJECTS_BY_NAME["Contract"]
    contracts = write_csv(tmp_path / "contracts.csv", [["800A", "001A", "Activated", "2026-01-01"]],
                          header=["Id", "AccountId", "Status", "StartDate"])  # fmt: skip
    load_file(con, contract, day[2], contracts, "l")
    assert delivery_problems(con, contract, load_absent(con, contract, day[3], "l"), limits) == [
        f"Contract, snapshot {day[3]}: 0 rows loaded, 1 on {day[2]} (down 100%, more than "
        "max_row_drop_pct 50%)"
    ]


def test_a_backfilled_day_is_gated_against_the_later_one(tmp_path):
    con = connect()
    later = write_csv(tmp_path / "later.csv", [opportunity(i) for i in range(10)])
    load_file(con, OPPORTUNITY, date(2026, 1, 9), later, "l")
    earlier = write_csv(tmp_path / "earlier.csv", [opportunity(i) for i in range(3)])
    result = load_file(con, OPPORTUNITY, date(2026, 1, 2), earlier, "l")
    assert delivery_problems(con, OPPORTUNITY, result, DeliveryLimits()) == [
        "Opportunity, snapshot 2026-01-02: 3 rows loaded, 10 on 2026-01-09 (down 70%, more "
        "than max_row_drop_pct 50%)"
    ]


# Fuzzing real-world damage: random safe records, one stray quote, a random header case
# and a random encoding. Every record but the stray quote's is loaded, the stray quote's
# line is rejected with its line number.
safe_text = st.text(alphabet="abcdeéü ÄÖ-xyz019", max_size=10).map(lambda t: "N" + t)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.lists(safe_text, min_size=6, max_size=20),
    stray=st.integers(min_value=0, max_value=2),
    upper=st.lists(st.booleans(), min_size=8, max_size=8),
    encoding=st.sampled_from(["utf-8", "iso-8859-1", "windows-1252", "utf-16"]),
)
def test_random_damage_never_loses_a_good_record(tmp_path_factory, names, stray, upper, encoding):
    python = {"utf-8": "utf-8", "iso-8859-1": "latin-1", "windows-1252": "cp1252",
              "utf-16": "utf-16"}[encoding]  # fmt: skip
    rows = [opportunity(i, name) for i, name in enumerate(names)]
    header = [h.upper() if up else h.lower() for h, up in zip(HEADER, upper, strict=True)]
    damaged = [r.copy() for r in rows]
    damaged[stray][2] = '"' + damaged[stray][2]  # written by hand: no writer would
    lines = [",".join(header)] + [",".join(r) for r in damaged]
    path = tmp_path_factory.mktemp("damage") / "Opportunity.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(python))
    con = connect()
    result = load_file(con, OPPORTUNITY, SNAPSHOT, path, "l", IngestOptions(encoding=encoding))
    assert loaded_ids(con) == {r[0] for r in rows} - {rows[stray][0]}
    assert (result.rows_in_file, result.rows_rejected) == (len(rows), 1)
    assert [line for line, _ in rejects(con)] == [stray + 2]


def test_a_bad_delivery_is_blocked_before_publish_and_published_once_accepted(demo_build, tmp_path):
    """Day 5 of the demo arrives with Opportunity.csv holding only its header, Contract.csv
    cut to a tenth and every line item's Quantity unreadable: the build stops before
    publish naming all three, the published warehouse stays byte for byte; accepted, the
    day is published."""
    landing = tmp_path / "landing"
    shutil.copytree(DEMO_LANDING, landing)
    day5 = landing / "2026-11-17"
    shutil.copytree(landing / "2026-11-16", day5)
    header, _ = read_rows(day5 / "Opportunity.csv")
    write_csv(day5 / "Opportunity.csv", [], header=header)
    header, contracts = read_rows(day5 / "Contract.csv")
    write_csv(day5 / "Contract.csv", contracts[: len(contracts) // 10], header=header)
    header, lines = read_rows(day5 / "OpportunityLineItem.csv")
    at = header.index("Quantity")
    write_csv(day5 / "OpportunityLineItem.csv",
              [[*r[:at], "n/a", *r[at + 1 :]] for r in lines], header=header)  # fmt: skip
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_build.warehouse, warehouse)
    published = warehouse.read_bytes()
    with pytest.raises(BuildError) as blocked:
        run_build(landing, warehouse)
    message = " ".join(str(blocked.value).split())
    assert f"Opportunity, snapshot 2026-11-17: {day5 / 'Opportunity.csv'} has no rows" in message
    assert f"Contract, snapshot 2026-11-17: {len(contracts) // 10} rows loaded, " in message
    assert (
        f"OpportunityLineItem, snapshot 2026-11-17: {len(lines):,} of {len(lines):,} rows"
        in message
    )
    assert "--accept-snapshot 2026-11-17" in message
    assert warehouse.read_bytes() == published
    summary = run_build(landing, warehouse, accepted_snapshots=[date(2026, 11, 17)])
    assert summary.snapshots[-1] == "2026-11-17"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_opportunities").fetchone()[0] == 0


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


@pytest.mark.slow
def test_a_build_over_a_warehouse_in_the_old_raw_layout_says_how_to_rebuild(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.opportunity (Id varchar, _snapshot_date date)")
    published = warehouse.read_bytes()
    with pytest.raises(BuildError) as refused:
        run_build(DEMO_LANDING, warehouse)
    message = " ".join(str(refused.value).split())
    assert "raw__snapshots: raw.opportunity: every snapshot's rows in one table" in message
    assert "Rebuild the warehouse from the landing folder" in message
    assert warehouse.read_bytes() == published


def test_messages_never_echo_the_first_line_of_a_file_that_is_no_export(tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/bin/sh\n")
    link = tmp_path / "2026-01-05" / "Opportunity.csv"
    link.parent.mkdir()
    link.symlink_to(secret)
    with pytest.raises(FileLevelError) as error:
        load_file(connect(), OPPORTUNITY, SNAPSHOT, link, "l")
    assert str(error.value) == (
        f"{link}: required column Id is missing "
        "(its first line is not a header of Salesforce field names)"
    )
