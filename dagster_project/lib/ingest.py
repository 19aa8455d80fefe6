"""Load one CRM export file into raw.<object>, rejecting bad rows with a reason.

Every data row of a file ends in exactly one place: `raw.<object>` (typed, stamped with
the load metadata) or `raw.rejects` (with the raw values and a reason a person
understands). A file-level problem (unreadable, empty, a required column missing) raises
`FileLevelError` with one message naming the file and the column, and changes nothing.

All the work is set-based in DuckDB: one `read_csv` (or `read_parquet`) per file, typed
with `try_cast`, reasons built in SQL. No Python loop over rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from .crm_schema import OBJECTS, TYPE_WORDS, CrmObject, Field
from .raw_store import (
    VERSION_COLUMNS,
    create_snapshot_view,
    create_tables,
    data_columns,
    incoming_sql,
    quote_ident,
    raw_table_columns,
    rehash,
    store_snapshot,
    versions_table,
)


class FileLevelError(Exception):
    """A whole file cannot be loaded (the message names the file and, where known, the column)."""


@dataclass(frozen=True)
class LoadResult:
    object_name: str
    snapshot_date: date
    source_file: str
    rows_in_file: int
    rows_loaded: int
    rows_rejected: int
    extra_columns: tuple[str, ...]
    skipped: bool = False  # the same file was already loaded: nothing to do


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema, one versioned table per object, the rejects and the load log."""
    con.execute("create schema if not exists raw")
    con.execute(
        """
        create table if not exists raw.rejects (
            object_name varchar, snapshot_date date, source_file varchar,
            line_number bigint, raw_values varchar, reason varchar,
            load_id varchar, loaded_at timestamp
        )"""
    )
    con.execute(
        """
        create table if not exists raw._loads (
            object_name varchar, snapshot_date date, source_file varchar,
            file_sha256 varchar, rows_in_file bigint, rows_loaded bigint,
            rows_rejected bigint, extra_columns varchar[], load_id varchar,
            loaded_at timestamp
        )"""
    )
    for obj in OBJECTS:
        if _is_per_snapshot_table(con, obj):
            _migrate_per_snapshot_table(con, obj)
        else:
            create_tables(con, obj, [])


def _is_per_snapshot_table(con: duckdb.DuckDBPyConnection, obj: CrmObject) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw' "
            "and table_name = ? and table_type = 'BASE TABLE'",
            [obj.table],
        ).fetchone()[0]
    )


def _checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Checkpoint after a load's commit. DuckDB 2.0.0 answered joins and aggregates over a
    table just written by a large transaction (past one row group) with no rows, on the
    same connection, until a checkpoint: the next snapshot's load would not see this
    one's versions (tests/test_raw_store.py::test_versions_compact_past_one_row_group)."""
    con.execute("checkpoint")


# Load metadata of the layout before versioned storage: every snapshot's rows kept.
_PER_SNAPSHOT_METADATA = (
    "_snapshot_date",
    "_source_file",
    "_file_sha256",
    "_load_id",
    "_loaded_at",
    "_line_number",
)


def _migrate_per_snapshot_table(con: duckdb.DuckDBPyConnection, obj: CrmObject) -> None:
    """Convert a raw table of the earlier layout (every snapshot's rows) to versions,
    replaying its snapshots oldest first through `store_snapshot`."""
    old = f"raw.{obj.table}__per_snapshot"
    declared = {f.name for f in obj.fields}
    extras = [
        c
        for c in raw_table_columns(con, obj.table)
        if c not in declared and c not in _PER_SNAPSHOT_METADATA
    ]
    # One transaction and checkpoint per snapshot, as in a load (see _checkpoint). The
    # build works on a copy of the warehouse, so a failure half-way leaves the published
    # file as it was.
    con.execute(f"alter table raw.{obj.table} rename to {obj.table}__per_snapshot")
    create_tables(con, obj, extras)
    columns = data_columns(con, obj)
    # The earlier layout loaded nothing for an absent optional file; now that is an
    # empty snapshot, recorded like any other load.
    con.execute(
        f"""
        insert into raw._loads (object_name, snapshot_date, rows_in_file, rows_loaded,
                                rows_rejected, extra_columns, loaded_at)
        select distinct {quote_literal(obj.name)}, s.snapshot_date, 0, 0, 0, [],
               current_timestamp::timestamp
        from raw.snapshots s
        where not exists (
            select 1 from raw._loads l
            where l.object_name = {quote_literal(obj.name)}
              and l.snapshot_date = s.snapshot_date
        )
        """
    )
    snapshots = con.execute(
        f"""
        select snapshot_date, any_value(source_file), any_value(file_sha256),
               any_value(load_id)
        from raw._loads where object_name = {quote_literal(obj.name)}
        group by all order by 1
        """
    ).fetchall()
    for snapshot_date, source_file, sha, load_id in snapshots:
        rows_sql = (
            f"select {', '.join(quote_ident(c) for c in columns)}, _line_number, "
            f"_line_number as _ordinal from {old} "
            f"where _snapshot_date = '{snapshot_date.isoformat()}'"
        )
        con.execute(f"create or replace temp table incoming as {incoming_sql(columns, rows_sql)}")
        con.execute("begin transaction")
        store_snapshot(
            con, obj, snapshot_date, source_file=source_file, file_sha256=sha, load_id=load_id
        )
        con.execute("commit")
        _checkpoint(con)
    con.execute(f"drop table {old}")
    con.execute("drop table if exists incoming")


def read_header(path: Path) -> list[str]:
    """The column names of a CSV file (BOM tolerated), or a FileLevelError."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 16)
    except OSError as exc:
        raise FileLevelError(f"{path}: cannot be read ({exc.strerror})") from None
    if not head.strip():
        raise FileLevelError(f"{path}: the file is empty (not even a header line)")
    # Bad bytes further down are the rows' problem (rejected one by one), not the header's.
    text = head.decode("utf-8-sig", errors="replace")
    first_record = next(csv.reader(io.StringIO(text)), [])
    names = [name.strip() for name in first_record]
    if any("\ufffd" in name for name in names):
        raise FileLevelError(f"{path}: the header line is not valid UTF-8")
    if not any(names):
        raise FileLevelError(f"{path}: the header line is empty")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise FileLevelError(f"{path}: column {duplicates[0]} appears twice in the header")
    if "" in names:
        raise FileLevelError(f"{path}: the header has an empty column name")
    return names


def _source_relation(path: Path, header: list[str]) -> tuple[str, bool]:
    """SQL that reads the file as text columns; True when it is a CSV with parser rejects."""
    if path.suffix.lower() == ".parquet":
        return f"select * from read_parquet({quote_literal(str(path))})", False
    columns = "{" + ", ".join(f"{quote_literal(n)}: 'VARCHAR'" for n in header) + "}"
    return (
        f"""select * from read_csv({quote_literal(str(path))}, columns = {columns},
            header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
            store_rejects = true, rejects_table = 'csv_rejects', rejects_scan = 'csv_scans',
            rejects_limit = 0)""",
        True,
    )


def _parquet_header(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    try:
        rel = con.sql(f"select * from read_parquet({quote_literal(str(path))}) limit 0")
    except duckdb.Error as exc:
        raise FileLevelError(f"{path}: not a readable Parquet file ({exc})") from None
    return list(rel.columns)


def _typed_expression(f: Field) -> str:
    """SQL turning the text value of a field into its declared type (null when invalid)."""
    col = f"nullif(trim(src.{quote_ident(f.name)}), '')"
    if f.type == "text":
        return f"src.{quote_ident(f.name)}"
    if f.type == "bool":
        return (
            f"case lower({col}) when 'true' then true when '1' then true "
            f"when 'false' then false when '0' then false end"
        )
    if f.type == "date":
        return f"try_strptime({col}, '%Y-%m-%d')::date"
    if f.type == "datetime":
        # ISO 8601 with or without offset; stored as UTC wall time.
        return (
            f"coalesce(try_strptime({col}, '%Y-%m-%d')::timestamp, "
            f"timezone('UTC', try_cast({col} as timestamptz)))"
        )
    if f.type == "integer":
        # try_cast would round 12.5 to 13; a whole number may still be exported as 12.0.
        return (
            f"case when regexp_full_match({col}, '[+-]?[0-9]+(\\.0*)?') "
            f"then try_cast(try_cast({col} as decimal(18, 4)) as integer) end"
        )
    return f"try_cast({col} as {f.sql_type})"


def _problems_expression(obj: CrmObject, present: set[str]) -> str:
    """SQL list of reason strings for one row (empty list = the row is fine)."""
    checks = []
    for f in obj.fields:
        if f.name not in present:
            continue
        raw = f"src.{quote_ident(f.name)}"
        blank = f"nullif(trim({raw}), '') is null"
        if f.required:
            checks.append(f"case when {blank} then 'missing required field {f.name}' end")
        if f.type != "text":
            checks.append(
                f"case when not ({blank}) and ({_typed_expression(f)}) is null then "
                f"'{f.name} ' || {raw} || ' is not {TYPE_WORDS[f.type]}' end"
            )
        if f.allowed:
            allowed = ", ".join(quote_literal(v) for v in f.allowed)
            checks.append(
                f"case when not ({blank}) and {raw} not in ({allowed}) then "
                f"'{f.name} ' || {raw} || ' is not one of {', '.join(f.allowed)}' end"
            )
    if obj.key:
        checks.append(
            f"case when dup_count > 1 then 'duplicate {obj.key} ' || src.{quote_ident(obj.key)} "
            f"|| ' in this file (' || dup_count || ' rows); all copies rejected' end"
        )
    return "list_filter([" + ", ".join(checks) + "], lambda x: x is not null)" if checks else "[]"


def load_file(
    con: duckdb.DuckDBPyConnection,
    obj: CrmObject,
    snapshot_date: date,
    path: Path,
    load_id: str,
) -> LoadResult:
    """Load one export file of `obj` for `snapshot_date`, replacing that snapshot's rows.

    Idempotent: a file whose checksum is already recorded for this object and snapshot is
    skipped; any other file for the same snapshot replaces the earlier load (backfill and
    re-delivery both work).
    """
    sha = file_sha256(path)
    already = con.execute(
        "select count(*) from raw._loads where object_name = ? and snapshot_date = ? "
        "and file_sha256 = ?",
        [obj.name, snapshot_date, sha],
    ).fetchone()[0]
    if already:
        return LoadResult(obj.name, snapshot_date, str(path), 0, 0, 0, (), skipped=True)

    header = _parquet_header(con, path) if path.suffix.lower() == ".parquet" else read_header(path)
    missing = [name for name in obj.required_fields if name not in header]
    if missing:
        raise FileLevelError(
            f"{path}: required column {missing[0]} is missing (the header has: {', '.join(header)})"
        )
    declared = {f.name for f in obj.fields}
    extras = tuple(n for n in header if n not in declared)
    present = set(header)

    source_sql, has_csv_rejects = _source_relation(path, header)
    con.execute("drop table if exists csv_rejects; drop table if exists csv_scans")
    try:
        con.execute(
            f"create or replace temp table file_rows as "
            f"select *, row_number() over () as _ordinal from ({source_sql}) as src"
        )
    except duckdb.Error as exc:
        raise FileLevelError(f"{path}: cannot be read as CSV ({exc})") from None

    # Structural rejects (too many / too few fields, bad quoting, bad UTF-8) from the reader.
    con.execute(
        "create or replace temp table parse_rejects "
        "(line_number bigint, raw_values varchar, reason varchar)"
    )
    if has_csv_rejects:
        con.execute(
            """
            insert into parse_rejects
            -- DuckDB reports a short record once per missing column: keep one reason a line.
            select line, any_value(csv_line),
                   arg_min(case error_type
                       when 'MISSING COLUMNS' then 'too few fields: ' || error_message
                       when 'TOO MANY COLUMNS' then 'too many fields: ' || error_message
                       else lower(error_type) || ': ' || error_message
                   end, column_idx)
            from csv_rejects
            group by line
            """
        )

    # Line numbers of the parsed rows: the k-th parsed row sits after the header and after
    # every rejected record that precedes it (DuckDB counts lines by records, header = 1).
    con.execute(
        """
        create or replace temp table row_lines as
        with rejected as (
            select
                line_number - row_number() over (order by line_number) as first_ordinal_after,
                row_number() over (order by line_number) as rejects_before
            from parse_rejects
        )
        select f._ordinal, f._ordinal + 1 + coalesce(r.rejects_before, 0) as _line_number
        from file_rows f
        asof left join rejected r on f._ordinal >= r.first_ordinal_after
        """
    )

    key_window = f"count(*) over (partition by src.{quote_ident(obj.key)})" if obj.key else "1"
    typed_columns = ", ".join(
        f"{_typed_expression(f)} as {quote_ident(f.name)}" for f in obj.fields if f.name in present
    )
    extra_columns = "".join(f", src.{quote_ident(n)}" for n in extras)
    con.execute(
        f"""
        create or replace temp table checked_rows as
        select {typed_columns}{extra_columns},
               src._ordinal,
               l._line_number,
               {_problems_expression(obj, present)} as _problems
        from (select *, {key_window} as dup_count from file_rows src) src
        join row_lines l using (_ordinal)
        """
    )
    # The raw values of a rejected row, as the file had them (only rejected rows need them).
    raw_values = (
        "json_object("
        + ", ".join(f"{quote_literal(n)}, src.{quote_ident(n)}" for n in header)
        + ")::varchar"
    )

    reserved = [name for name in extras if name in VERSION_COLUMNS]
    if reserved:
        raise FileLevelError(
            f"{path}: column {reserved[0]} is reserved for raw storage; rename it in the export"
        )
    columns = data_columns(con, obj)
    new_extras = [name for name in extras if name not in columns]
    for name in new_extras:
        con.execute(f"alter table {versions_table(obj)} add column {quote_ident(name)} varchar")
        columns.append(name)  # added columns come last, as data_columns lists them
    if new_extras:
        rehash(con, obj)
        create_snapshot_view(con, obj)

    # Columns of the table this file lacks (optional fields, earlier files' extras): null.
    types = {f.name: f.sql_type for f in obj.fields}
    shaped = ", ".join(
        quote_ident(c) if c in present else f"null::{types.get(c, 'varchar')} as {quote_ident(c)}"
        for c in columns
    )
    con.execute(
        "create or replace temp table incoming as "
        + incoming_sql(
            columns,
            f"select {shaped}, _line_number, _ordinal from checked_rows where len(_problems) = 0",
        )
    )
    con.execute("begin transaction")
    try:
        con.execute(
            "delete from raw.rejects where object_name = ? and snapshot_date = ?",
            [obj.name, snapshot_date],
        )
        con.execute(
            "delete from raw._loads where object_name = ? and snapshot_date = ?",
            [obj.name, snapshot_date],
        )
        store_snapshot(
            con, obj, snapshot_date, source_file=str(path), file_sha256=sha, load_id=load_id
        )
        con.execute(
            f"""
            insert into raw.rejects
            select ?, ?::date, ?, c._line_number, {raw_values},
                   array_to_string(c._problems, '; '), ?, current_timestamp::timestamp
            from checked_rows c join file_rows src using (_ordinal)
            where len(c._problems) > 0
            union all
            select ?, ?::date, ?, line_number, raw_values, reason, ?, current_timestamp::timestamp
            from parse_rejects
            """,
            [obj.name, snapshot_date, str(path), load_id] * 2,
        )
        loaded, rejected_rows = con.execute(
            "select count(*) filter (len(_problems) = 0), count(*) filter (len(_problems) > 0) "
            "from checked_rows"
        ).fetchone()
        rejected = rejected_rows + con.execute("select count(*) from parse_rejects").fetchone()[0]
        con.execute(
            "insert into raw._loads values "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp::timestamp)",
            [
                obj.name,
                snapshot_date,
                str(path),
                sha,
                loaded + rejected,
                loaded,
                rejected,
                list(extras),
                load_id,
            ],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.execute(
            "drop table if exists file_rows; drop table if exists checked_rows; "
            "drop table if exists row_lines; drop table if exists parse_rejects; "
            "drop table if exists incoming"
        )
    _checkpoint(con)
    return LoadResult(
        obj.name, snapshot_date, str(path), loaded + rejected, loaded, rejected, extras
    )


def load_absent(
    con: duckdb.DuckDBPyConnection, obj: CrmObject, snapshot_date: date, load_id: str
) -> LoadResult:
    """Record that an optional object has no file in a snapshot: it is empty there (SPEC 2)."""
    already = con.execute(
        "select count(*) from raw._loads where object_name = ? and snapshot_date = ? "
        "and source_file is null",
        [obj.name, snapshot_date],
    ).fetchone()[0]
    if already:
        return LoadResult(obj.name, snapshot_date, "", 0, 0, 0, (), skipped=True)
    columns = data_columns(con, obj)
    con.execute(
        "create or replace temp table incoming as "
        + incoming_sql(
            columns,
            f"select {', '.join(quote_ident(c) for c in columns)}, null::bigint as _line_number, "
            f"null::bigint as _ordinal from {versions_table(obj)} limit 0",
        )
    )
    con.execute("begin transaction")
    try:
        for table in ("raw.rejects", "raw._loads"):
            con.execute(
                f"delete from {table} where object_name = ? and snapshot_date = ?",
                [obj.name, snapshot_date],
            )
        store_snapshot(con, obj, snapshot_date, source_file=None, file_sha256=None, load_id=load_id)
        con.execute(
            "insert into raw._loads values "
            "(?, ?, null, null, 0, 0, 0, [], ?, current_timestamp::timestamp)",
            [obj.name, snapshot_date, load_id],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.execute("drop table if exists incoming")
    _checkpoint(con)
    return LoadResult(obj.name, snapshot_date, "", 0, 0, 0, ())


def find_file(snapshot_dir: Path, obj: CrmObject) -> Path | None:
    """The export file of `obj` in a snapshot folder (CSV preferred, Parquet accepted)."""
    for suffix in (".csv", ".parquet"):
        candidate = snapshot_dir / f"{obj.name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def list_snapshots(landing: Path) -> dict[date, Path]:
    """Snapshot folders (named YYYY-MM-DD) of a landing directory, oldest first."""
    if not landing.is_dir():
        raise FileLevelError(f"{landing}: landing directory does not exist")
    snapshots = {}
    for child in landing.iterdir():
        if not child.is_dir():
            continue
        try:
            snapshots[date.fromisoformat(child.name)] = child
        except ValueError:
            continue
    if not snapshots:
        raise FileLevelError(
            f"{landing}: no snapshot folders (expected sub-folders named YYYY-MM-DD)"
        )
    for snapshot_date, folder in snapshots.items():
        if not any(find_file(folder, o) for o in OBJECTS):
            raise FileLevelError(f"{folder}: snapshot {snapshot_date} holds no CRM export files")
    return dict(sorted(snapshots.items()))
