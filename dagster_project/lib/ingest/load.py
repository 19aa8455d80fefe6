"""Load one CRM export file into raw.<object>, rejecting bad rows with a reason.

Every data row of a file ends in exactly one place: `raw.<object>` (typed, stamped with
the load metadata) or `raw.rejects` (with the raw values and a reason a person
understands). A file-level problem (unreadable, empty, a required column missing) raises
`FileLevelError` with one message naming the file and the column, and changes nothing.

A load runs in named steps, each in its own module: read the file beside an independent
record scan (reading.py), reconcile the two, check every row (row_rules.py), evolve the
raw schema for new extra columns (raw_schema.py), hash the rows into versions and commit
them with the rejects and the load log (here). Whatever a Salesforce tool writes (SPEC
2.1) lands the same: headers and file names in any case, ZIP archives, other encodings,
zone-less date-times in the org's time zone, empty checkboxes, the null lookup,
15-character Ids.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from ..crm_schema import CrmObject
from ..raw_store import (
    data_columns,
    incoming_sql,
    quote_ident,
    quote_literal,
    store_snapshot,
    versions_table,
)
from .errors import FileLevelError
from .headers import add_derived_columns
from .landing import ExportFile
from .raw_schema import evolve_raw_schema, show_added_columns
from .reading import (
    collect_parse_rejects,
    materialize,
    number_read_rows,
    read_export,
    reconcile_with_scan,
)
from .row_rules import check_rows

# The temp tables of one load, dropped when it ends.
LOAD_TABLES = ("file_rows", "checked_rows", "row_lines", "parse_rejects", "line_breaks", "incoming")


@dataclass(frozen=True)
class LoadResult:
    """What one load did with one file: its rows, loaded and rejected, and its extra columns."""

    object_name: str
    snapshot_date: date
    source_file: str
    rows_in_file: int
    rows_loaded: int
    rows_rejected: int
    extra_columns: tuple[str, ...]
    skipped: bool = False  # the same file was already loaded: nothing to do


@dataclass(frozen=True)
class IngestOptions:
    """How to read a delivery (SPEC 2.1): its encoding and the org's time zone."""

    encoding: str = "utf-8"  # a csv_scan.ENCODINGS name; a byte-order mark overrides it
    org_time_zone: str = "UTC"  # date-times without an offset are in this zone
    scratch_dir: Path | None = None  # where ZIP members and rewritten files go while loading


def _checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Checkpoint after a load's commit. DuckDB 2.0.0 answered joins and aggregates over a
    table just written by a large transaction (past one row group) with no rows, on the
    same connection, until a checkpoint: the next snapshot's load would not see this
    one's versions (tests/test_raw_store.py::test_versions_compact_past_one_row_group)."""
    con.execute("checkpoint")


def load_snapshot(
    con: duckdb.DuckDBPyConnection,
    obj: CrmObject,
    snapshot_date: date,
    folder: Path,
    export: ExportFile | None,
    load_id: str,
    options: IngestOptions,
) -> LoadResult:
    """Load the object's export of one snapshot folder, or record it empty when an optional
    object has none (SPEC 2); a FileLevelError for a missing required file or a link
    out of the folder."""
    if export is not None and folder.resolve() not in export.path.resolve().parents:
        # A link to /etc/passwd or another team's file is not a CRM export: refused before
        # a byte of it is read (nor echoed in a message).
        raise FileLevelError(
            f"{export.path}: a symbolic link to a file outside snapshot "
            f"folder {folder}; copy the export into the folder instead"
        )
    if export is None and not obj.optional:
        raise FileLevelError(
            f"{folder}: {obj.name}.csv is missing from snapshot "
            f"{snapshot_date} (it is required in every snapshot)"
        )
    if export is None:
        return load_absent(con, obj, snapshot_date, load_id)
    return load_file(con, obj, snapshot_date, export, load_id, options)


def load_file(
    con: duckdb.DuckDBPyConnection,
    obj: CrmObject,
    snapshot_date: date,
    export: ExportFile | Path,
    load_id: str,
    options: IngestOptions = IngestOptions(),
) -> LoadResult:
    """Load one export file of `obj` for `snapshot_date`, replacing that snapshot's rows.

    Idempotent: a file whose checksum is already recorded for this object and snapshot is
    skipped; any other file for the same snapshot replaces the earlier load (backfill and
    re-delivery both work). Every record the independent scan counts is loaded or
    rejected, or the load fails naming the file.
    """
    if isinstance(export, Path):
        export = ExportFile(export)
    where = export.name
    with tempfile.TemporaryDirectory(prefix="recurwise-load-", dir=options.scratch_dir) as tmp:
        scratch = Path(tmp)
        path, sha = materialize(export, scratch)
        if _already_loaded(con, obj, snapshot_date, sha):
            return LoadResult(obj.name, snapshot_date, where, 0, 0, 0, (), skipped=True)
        header, scanned = read_export(con, obj, export, path, options.encoding, scratch)
        try:
            collect_parse_rejects(con, scanned, from_csv=not export.is_parquet)
            reconcile_with_scan(con, scanned, where)
            header = add_derived_columns(con, obj, snapshot_date, header)
            declared = {f.name for f in obj.fields}
            extras = tuple(n for n in header if n not in declared)
            number_read_rows(con)
            check_rows(con, obj, set(header), extras, options.org_time_zone)
            columns, added = evolve_raw_schema(con, obj, extras)
            if added:
                show_added_columns(con, obj)
            _stage_incoming(con, obj, columns, set(header))
            loaded, rejected = _commit(con, obj, snapshot_date, where, sha, load_id, header, extras)
            _checkpoint(con)
            return LoadResult(
                obj.name, snapshot_date, where, loaded + rejected, loaded, rejected, extras
            )
        finally:
            con.execute("; ".join(f"drop table if exists {table}" for table in LOAD_TABLES))


def _already_loaded(
    con: duckdb.DuckDBPyConnection, obj: CrmObject, snapshot_date: date, sha: str
) -> bool:
    """This file was loaded for this snapshot, and no object it reads (PricebookEntry) was
    re-delivered since."""
    return bool(
        con.execute(
            "select count(*) from raw._loads l where object_name = ? and snapshot_date = ? "
            "and file_sha256 = ? and not exists (select 1 from raw._loads r "
            "where r.object_name in (select unnest(?::varchar[])) "
            "and r.snapshot_date = l.snapshot_date and r.loaded_at > l.loaded_at)",
            [obj.name, snapshot_date, sha, list(obj.reads)],
        ).fetchall()[0][0]
    )


def _stage_incoming(
    con: duckdb.DuckDBPyConnection, obj: CrmObject, columns: list[str], present: set[str]
) -> None:
    """incoming: the rows that load, shaped like the raw table and hashed into versions."""
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


def _commit(
    con: duckdb.DuckDBPyConnection,
    obj: CrmObject,
    snapshot_date: date,
    where: str,
    sha: str,
    load_id: str,
    header: list[str],
    extras: tuple[str, ...],
) -> tuple[int, int]:
    """In one transaction, the snapshot's rows replaced by incoming, its rejects by this
    file's, and the load recorded in raw._loads: (rows loaded, rows rejected)."""
    con.execute("begin transaction")
    try:
        for table in ("raw.rejects", "raw._loads"):
            con.execute(
                f"delete from {table} where object_name = ? and snapshot_date = ?",
                [obj.name, snapshot_date],
            )
        store_snapshot(con, obj, snapshot_date, source_file=where, file_sha256=sha, load_id=load_id)
        _insert_rejects(con, obj, snapshot_date, where, load_id, header)
        loaded, rejected_rows = con.execute(
            "select count(*) filter (len(_problems) = 0), count(*) filter (len(_problems) > 0) "
            "from checked_rows"
        ).fetchone()
        rejected = rejected_rows + con.execute("select count(*) from parse_rejects").fetchone()[0]
        con.execute(
            "insert into raw._loads values "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp::timestamp)",
            [obj.name, snapshot_date, where, sha, loaded + rejected, loaded, rejected]
            + [list(extras), load_id],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return loaded, rejected


def _insert_rejects(
    con: duckdb.DuckDBPyConnection,
    obj: CrmObject,
    snapshot_date: date,
    where: str,
    load_id: str,
    header: list[str],
) -> None:
    """raw.rejects gets the rows the rules rejected and the records no reader could read."""
    # The raw values of a rejected row, as the file had them (only rejected rows need them).
    raw_values = (
        "json_object("
        + ", ".join(f"{quote_literal(n)}, src.{quote_ident(n)}" for n in header)
        + ")::varchar"
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
        [obj.name, snapshot_date, where, load_id] * 2,
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


def check_time_zone(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """A ValueError unless DuckDB knows the time zone `name` (org_time_zone)."""
    known = con.execute(
        "select count(*) from pg_timezone_names() where name = ?", [name]
    ).fetchall()[0][0]
    if not known:
        raise ValueError(f"org_time_zone {name!r} is not a time zone name such as Europe/Berlin")
