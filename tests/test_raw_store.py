"""Raw storage keeps versions, not copies (SPEC 3, issue #3): every snapshot decodes to
exactly the rows its latest delivered file had, whatever order files arrive in."""

import shutil
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.lib.crm_schema import OBJECTS_BY_NAME
from dagster_project.lib.ingest.errors import FileLevelError, OldRawLayoutError
from dagster_project.lib.ingest.load import load_absent, load_file
from dagster_project.lib.ingest.raw_schema import ensure_raw_schema

USER = OBJECTS_BY_NAME["User"]
RATE = OBJECTS_BY_NAME["DatedConversionRate"]  # no Id: identical rows may repeat
DAY_ONE = date(2026, 3, 1)


class Landing:
    """Writes export files and loads them into one in-memory warehouse."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.con = duckdb.connect()
        ensure_raw_schema(self.con)
        self.deliveries = 0

    def deliver(self, obj, day: date, lines: list[str] | None, header: str = "") -> None:
        """Load a file with these data lines (None: the optional file is absent)."""
        if lines is None:
            load_absent(self.con, obj, day, "test")
            return
        self.deliveries += 1  # a new folder per delivery: re-deliveries are new files
        path = self.folder / str(self.deliveries) / f"{obj.name}.csv"
        path.parent.mkdir(parents=True)
        header = header or (
            "Id,Name,IsActive" if obj is USER else "IsoCode,ConversionRate,StartDate"
        )
        path.write_text("\n".join([header, *lines]) + "\n")
        load_file(self.con, obj, day, path, "test")

    def rows(self, obj, day: date) -> Counter:
        columns = "Id, Name, IsActive" if obj is USER else "IsoCode, ConversionRate, StartDate"
        return Counter(
            self.con.execute(
                f"select {columns} from raw.{obj.table} where _snapshot_date = ?", [day]
            ).fetchall()
        )

    def versions(self, obj) -> int:
        return self.con.execute(f"select count(*) from raw.{obj.table}_versions").fetchone()[0]


def user_lines(rows: list[tuple[str, str, bool]]) -> list[str]:
    return [f"{i},{name},{str(active).lower()}" for i, name, active in rows]


@pytest.fixture
def landing(tmp_path):
    return Landing(tmp_path)


def test_unchanged_rows_are_stored_once(landing):
    rows = [(f"005{i:03d}", f"User {i}", True) for i in range(100)]
    for day in range(30):
        changed = [*rows[:-1], ("005099", f"Renamed on day {day}", True)]
        landing.deliver(USER, DAY_ONE + timedelta(days=day), user_lines(changed))
    # 99 rows that never changed + one row renamed every day: 129 versions, not 3,000 rows.
    assert landing.versions(USER) == 99 + 30
    last = DAY_ONE + timedelta(days=29)
    assert landing.rows(USER, last)[("005099", "Renamed on day 29", True)] == 1
    assert sum(landing.rows(USER, last).values()) == 100


def test_versions_compact_past_one_row_group(landing):
    """Two identical 150k-row snapshots loaded on one connection: one version per row.

    DuckDB 2.0.0 answered joins and aggregates over a table just written by a large
    transaction with no rows until a checkpoint; ingest checkpoints after each load.
    """
    rows = [(f"005{i:07d}", "Same", True) for i in range(150_000)]
    for day in (DAY_ONE, DAY_ONE + timedelta(days=1)):
        landing.deliver(USER, day, user_lines(rows))
    assert landing.versions(USER) == 150_000
    assert landing.con.execute(
        "select count(distinct Id), min(_last_snapshot_date) from raw.user_versions"
    ).fetchone() == (150_000, DAY_ONE + timedelta(days=1))


def test_a_row_deleted_and_restored_is_two_versions_and_absent_in_between(landing):
    days = [DAY_ONE + timedelta(days=d) for d in range(3)]
    landing.deliver(USER, days[0], user_lines([("005A", "Ann", True)]))
    landing.deliver(USER, days[1], [])
    landing.deliver(USER, days[2], user_lines([("005A", "Ann", True)]))
    assert [sum(landing.rows(USER, d).values()) for d in days] == [1, 0, 1]
    # The middle day re-delivered with the row: the two versions become one.
    landing.deliver(USER, days[1], user_lines([("005A", "Ann", True)]))
    assert landing.versions(USER) == 1


def test_a_new_extra_column_starts_new_versions_only_where_it_has_a_value(landing):
    days = [DAY_ONE + timedelta(days=d) for d in range(3)]
    landing.deliver(USER, days[0], user_lines([("005A", "Ann", True), ("005B", "Bob", True)]))
    # Region appears, empty for both rows: the same rows as before.
    landing.deliver(USER, days[1], ["005A,Ann,true,", "005B,Bob,true,"], "Id,Name,IsActive,Region")
    assert landing.versions(USER) == 2
    landing.deliver(
        USER, days[2], ["005A,Ann,true,EU", "005B,Bob,true,"], "Id,Name,IsActive,Region"
    )
    assert landing.versions(USER) == 3
    assert landing.con.execute(
        "select Id, Region, _snapshot_date from raw.user order by 3, 1"
    ).fetchall() == [
        ("005A", None, days[0]),
        ("005B", None, days[0]),
        ("005A", None, days[1]),
        ("005B", None, days[1]),
        ("005A", "EU", days[2]),
        ("005B", None, days[2]),
    ]


def test_an_extra_column_named_like_a_storage_column_stops_the_load(landing):
    with pytest.raises(FileLevelError, match="_row_hash is reserved for raw storage"):
        landing.deliver(USER, DAY_ONE, ["005A,Ann,true,1"], "Id,Name,IsActive,_row_hash")


def test_an_absent_optional_file_empties_that_snapshot_only(landing):
    days = [DAY_ONE + timedelta(days=d) for d in range(3)]
    for day in (days[0], days[2]):
        landing.deliver(USER, day, user_lines([("005A", "Ann", True)]))
    landing.deliver(USER, days[1], None)  # backfilled late, without a User file
    assert [sum(landing.rows(USER, d).values()) for d in days] == [1, 0, 1]


def test_snapshot_view_carries_the_load_metadata(landing):
    landing.deliver(USER, DAY_ONE, user_lines([("005A", "Ann", True), ("005B", "Bob", False)]))
    landing.deliver(USER, DAY_ONE + timedelta(days=1), user_lines([("005B", "Bob", False)]))
    rows = landing.con.execute(
        "select Id, _snapshot_date, _source_file, _file_sha256, _load_id, _loaded_at, "
        "_line_number from raw.user order by _snapshot_date, Id"
    ).fetchall()
    assert [(r[0], r[1], r[6]) for r in rows] == [
        ("005A", DAY_ONE, 2),
        ("005B", DAY_ONE, 3),
        ("005B", DAY_ONE + timedelta(days=1), 3),  # the line in the file that stored it
    ]
    assert all(value is not None for row in rows for value in row)


def test_a_warehouse_in_the_old_raw_layout_is_refused_saying_how_to_rebuild(landing):
    """Warehouses built before versioned storage kept every snapshot's rows in raw.<object>."""
    con = landing.con
    con.execute("drop view raw.user")
    con.execute("drop table raw.user_versions")
    con.execute(
        "create table raw.user as select '005A' as Id, 'Ann' as Name, true as IsActive, "
        "date '2026-03-01' as _snapshot_date"
    )
    with pytest.raises(OldRawLayoutError) as refused:
        ensure_raw_schema(con)
    message = str(refused.value)
    assert message.startswith("raw.user: every snapshot's rows in one table")
    assert "Rebuild the warehouse from the landing folder" in message
    # Refused before any change: the old table as it was, no versions table made.
    assert con.execute("select Id, Name from raw.user").fetchall() == [("005A", "Ann")]
    assert not con.execute(
        "select count(*) from information_schema.tables where table_name = 'user_versions'"
    ).fetchone()[0]


# --- any order of deliveries decodes to the latest delivery of every day ------------------

user_row = st.tuples(
    st.sampled_from(["005A", "005B", "005C"]), st.sampled_from("XY"), st.booleans()
)
user_file = st.lists(user_row, max_size=3, unique_by=lambda r: r[0])
rate_row = st.tuples(st.sampled_from(["EUR", "GBP"]), st.sampled_from(["1.1", "0.9"]))
rate_file = st.lists(rate_row, max_size=3)  # repeats allowed: rates have no Id
delivery = st.tuples(st.integers(0, 4), st.one_of(st.none(), user_file), rate_file)


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(deliveries=st.lists(delivery, min_size=1, max_size=8))
def test_any_delivery_order_decodes_to_the_latest_file_of_each_day(tmp_path, deliveries):
    folder = tmp_path / "landing"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    landing = Landing(folder)
    expected_users, expected_rates = {}, {}
    for day_number, users, rates in deliveries:
        day = DAY_ONE + timedelta(days=day_number)
        landing.deliver(USER, day, None if users is None else user_lines(users))
        rate_lines = [f"{iso},{rate},2026-01-01" for iso, rate in rates]
        landing.deliver(RATE, day, rate_lines)
        expected_users[day] = Counter((i, n, a) for i, n, a in users or [])
        expected_rates[day] = Counter((iso, Decimal(rate), date(2026, 1, 1)) for iso, rate in rates)
    for day in expected_users:
        assert landing.rows(USER, day) == expected_users[day], day
        assert landing.rows(RATE, day) == expected_rates[day], day
    # Stored compactly: no version could be merged with a neighbour of the same row.
    for obj in (USER, RATE):
        mergeable = landing.con.execute(
            f"""
            with loaded as (
                select snapshot_date,
                       lead(snapshot_date) over (order by snapshot_date) as next_date
                from raw._loads where object_name = '{obj.name}'
            )
            select count(*)
            from raw.{obj.table}_versions a
            join loaded l on l.snapshot_date = a._last_snapshot_date
            join raw.{obj.table}_versions b
              on b._first_snapshot_date = l.next_date
             and b._row_hash = a._row_hash and b._occurrence = a._occurrence
            """
        ).fetchone()[0]
        assert mergeable == 0, obj.name
