"""Load one CRM export file into raw.<object>, rejecting bad rows with a reason.

Every data row of a file ends in exactly one place: `raw.<object>` (typed, stamped with
the load metadata) or `raw.rejects` (with the raw values and a reason a person
understands). A file-level problem (unreadable, empty, a required column missing) raises
`FileLevelError` with one message naming the file and the column, and changes nothing.

All the work on rows is set-based in DuckDB: one `read_csv` (or `read_parquet`) per file,
typed with `try_cast`, reasons built in SQL. Beside it, an independent record scan
(lib/csv_scan.py) counts the file's records, so the load can prove it accounted for each.
Whatever a Salesforce tool writes (SPEC 2.1) lands the same: headers and file names in any
case, ZIP archives, other encodings, zone-less date-times in the org's time zone, empty
checkboxes, the null lookup, 15-character Ids.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from .crm_schema import OBJECTS, TYPE_WORDS, CrmObject, Field
from .csv_scan import (
    SHOWN_CHARS,
    ScanError,
    ScanResult,
    detect_encoding,
    python_encoding,
    rewrite,
    scan,
    shown,
)
from .csv_scan import read_header as csv_header
from .raw_store import (
    VERSION_COLUMNS,
    create_snapshot_view,
    create_tables,
    data_columns,
    incoming_sql,
    quote_ident,
    rehash,
    store_snapshot,
    versions_table,
)


class FileLevelError(Exception):
    """A whole file cannot be loaded (the message names the file and, where known, the column)."""


class OldRawLayoutError(Exception):
    """The warehouse keeps raw tables in the layout before versioned storage (every
    snapshot's rows in raw.<object>), which this version does not convert."""


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


def refuse_old_layout(con: duckdb.DuckDBPyConnection) -> None:
    """An `OldRawLayoutError` saying how to proceed when raw.<object> is a table (the layout
    before versioned storage) rather than the view over raw.<object>_versions."""
    old = [
        f"raw.{name}"
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' "
            "and table_type = 'BASE TABLE' and table_name in (select unnest(?::varchar[])) "
            "order by 1",
            [[obj.table for obj in OBJECTS]],
        ).fetchall()
    ]
    if old:
        more = f" and {len(old) - 3} more" if len(old) > 3 else ""
        raise OldRawLayoutError(
            f"{', '.join(old[:3])}{more}: every snapshot's rows in one table, the raw layout "
            "before versioned storage, which this version no longer converts. Rebuild the "
            "warehouse from the landing folder: move the published file aside, then run "
            "recurwise build --landing DIR --warehouse FILE again (every snapshot folder is "
            "loaded anew)"
        )


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema, one versioned table per object, the rejects and the load log.

    A warehouse whose raw tables are in the layout before versioned storage is refused
    (`OldRawLayoutError`) before anything changes."""
    con.execute("create schema if not exists raw")
    refuse_old_layout(con)
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
        create_tables(con, obj, [])


def _checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Checkpoint after a load's commit. DuckDB 2.0.0 answered joins and aggregates over a
    table just written by a large transaction (past one row group) with no rows, on the
    same connection, until a checkpoint: the next snapshot's load would not see this
    one's versions (tests/test_raw_store.py::test_versions_compact_past_one_row_group)."""
    con.execute("checkpoint")


@dataclass(frozen=True)
class IngestOptions:
    """How to read a delivery (SPEC 2.1): its encoding and the org's time zone."""

    encoding: str = "utf-8"  # a csv_scan.ENCODINGS name; a byte-order mark overrides it
    org_time_zone: str = "UTC"  # date-times without an offset are in this zone
    scratch_dir: Path | None = None  # where ZIP members and rewritten files go while loading


@dataclass(frozen=True)
class ExportFile:
    """One object's export in a snapshot folder: a file, or a member of a ZIP there."""

    path: Path  # the file, or the ZIP archive holding it
    member: str | None = None  # the member's name inside the ZIP

    @property
    def name(self) -> str:
        """How messages and raw.<object>._source_file name it."""
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    @property
    def is_parquet(self) -> bool:
        return Path(self.member or self.path.name).suffix.lower() == ".parquet"


@dataclass
class SnapshotFiles:
    files: dict[str, ExportFile]  # object name -> its export
    ignored: list[str]  # files that name no known object (reported, never loaded)


EXPORT_SUFFIXES = (".csv", ".parquet")


def snapshot_files(folder: Path) -> SnapshotFiles:
    """The export of every object in a snapshot folder, file names matched case-insensitively,
    ZIP archives read as if unpacked (the weekly Data Export); two files for one object are
    a file-level error, files that name no object are listed in `ignored`."""
    by_name = {o.name.lower(): o.name for o in OBJECTS}
    found: dict[str, list[ExportFile]] = {}
    ignored: list[str] = []

    def consider(export: ExportFile, file_name: str) -> None:
        stem, suffix = Path(file_name).stem.lower(), Path(file_name).suffix.lower()
        if suffix in EXPORT_SUFFIXES and stem in by_name:
            found.setdefault(by_name[stem], []).append(export)
        else:
            ignored.append(export.name)

    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue  # .DS_Store and the like: not an export
        if entry.is_file() and entry.suffix.lower() == ".zip":
            try:
                with zipfile.ZipFile(entry) as archive:
                    members = [m.filename for m in archive.infolist() if not m.is_dir()]
            except (zipfile.BadZipFile, OSError) as exc:
                raise FileLevelError(f"{entry}: not a readable ZIP archive ({exc})") from None
            for member in members:
                consider(ExportFile(entry, member), Path(member).name)
        elif entry.is_file():
            consider(ExportFile(entry), entry.name)
        else:
            ignored.append(str(entry))
    for object_name, exports in found.items():
        if len(exports) > 1:
            raise FileLevelError(
                f"{folder}: {len(exports)} files for {object_name} "
                f"({', '.join(e.name for e in exports)}); keep one"
            )
    return SnapshotFiles({name: exports[0] for name, exports in found.items()}, ignored)


def _materialize(export: ExportFile, scratch: Path) -> tuple[Path, str]:
    """A local file holding the export's bytes (a ZIP member is extracted), and its SHA-256."""
    if export.member is None:
        return export.path, file_sha256(export.path)
    target = scratch / Path(export.member).name
    digest = hashlib.sha256()
    try:
        with (
            zipfile.ZipFile(export.path) as archive,
            archive.open(export.member) as source,
            target.open("wb") as sink,
        ):
            for chunk in iter(lambda: source.read(1 << 20), b""):
                digest.update(chunk)
                sink.write(chunk)
    except (zipfile.BadZipFile, OSError, KeyError) as exc:
        raise FileLevelError(f"{export.name}: cannot be read from the archive ({exc})") from None
    return target, digest.hexdigest()


# Undeclared columns a declared field may derive from (see _derived_columns).
DERIVATION_SOURCES = ("PricebookEntryId", "FirstName", "LastName")


def canonical_header(obj: CrmObject, header: list[str], where: str) -> list[str]:
    """The header with every declared field in its API spelling: Data Loader writes ID,
    ACCOUNTID (SPEC 2.1). Other columns (Account.Name, custom fields) keep their spelling."""
    declared = {n.lower(): n for n in [*(f.name for f in obj.fields), *DERIVATION_SOURCES]}
    names = [declared.get(n.strip().lower(), n.strip()) for n in header]
    if "" in names:
        raise FileLevelError(f"{where}: the header has an empty column name")
    seen: dict[str, str] = {}
    for original, name in zip(header, names, strict=True):
        if name.lower() in seen:
            raise FileLevelError(
                f"{where}: column {shown(name)} appears twice in the header "
                f"({shown(seen[name.lower()].strip())} and {shown(original.strip())})"
            )
        seen[name.lower()] = original
    return names


def _derived_columns(obj: CrmObject, header: list[str]) -> dict[str, str]:
    """Required fields an export may lack because other columns give them (SPEC 2.1), with
    the SQL over file_rows `src` giving each: User.Name from FirstName and LastName, a line
    item's Product2Id from its PricebookEntryId (joined as `pricebook`)."""
    derived = {}
    parts = [p for p in ("FirstName", "LastName") if p in header]
    if obj.name == "User" and "Name" not in header and parts:
        names = ", ".join(f"nullif(trim(src.{quote_ident(p)}), '')" for p in parts)
        derived["Name"] = f"nullif(concat_ws(' ', {names}), '')"
    if (
        obj.name == "OpportunityLineItem"
        and "Product2Id" not in header
        and ("PricebookEntryId" in header)
    ):
        derived["Product2Id"] = "pricebook.product2_id"
    return derived


def _add_derived_columns(
    con: duckdb.DuckDBPyConnection, obj: CrmObject, snapshot_date: date, header: list[str]
) -> list[str]:
    derived = _derived_columns(obj, header)
    if not derived:
        return header
    columns = ", ".join(f"{sql} as {quote_ident(name)}" for name, sql in derived.items())
    pricebook = ""
    if "pricebook." in columns:
        entry = _id_expression("nullif(trim(src.\"PricebookEntryId\"), '')")
        pricebook = (
            'left join (select "Id" as entry_id, any_value("Product2Id") as product2_id '
            "from raw.pricebook_entry where _snapshot_date = "
            f"{quote_literal(snapshot_date.isoformat())}::date group by 1) pricebook "
            f"on pricebook.entry_id = {entry}"
        )
    con.execute(
        f"create or replace temp table file_rows as select src.*, {columns} "
        f"from file_rows src {pricebook} order by src._ordinal"
    )
    return [*header, *derived]


def _id_expression(value: str) -> str:
    """SQL for a Salesforce Id: 15 characters made 18 (the case-safe suffix Salesforce
    appends), the empty lookup 000000000000000AAA null."""
    chunks = []
    for chunk in range(3):
        bits = " + ".join(
            f"(case when substr({value}, {chunk * 5 + bit + 1}, 1) between 'A' and 'Z' "
            f"then {1 << bit} else 0 end)"
            for bit in range(5)
        )
        chunks.append(f"substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', {bits} + 1, 1)")
    return (
        f"case when {value} in ('000000000000000AAA', '000000000000000') then null "
        f"when length({value}) = 15 and regexp_full_match({value}, '[0-9A-Za-z]{{15}}') "
        f"then {value} || {' || '.join(chunks)} else {value} end"
    )


# Shapes a value must have before it is parsed: DuckDB alone reads 'infinity' and 'epoch'
# as dates and 12.5 as the whole number 13.
_DATE_SHAPE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T]00:00(:00(\.0+)?)?(Z|[+-]00:?00)?)?"
_DATETIME_SHAPE = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?"
    r" ?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?"
)
_WHOLE_SHAPE = r"[+-]?[0-9]+(\.0*)?|[+-]?[0-9]+(\.[0-9]+)?[eE]\+?[0-9]+"


def _typed_expression(f: Field, source: str) -> str:
    """SQL turning the text value of a field into its declared type (null when invalid).
    Date-times without an offset are read in the session's time zone: the org's."""
    col = f"nullif(trim({source}), '')"
    if f.type == "text":
        return source
    if f.type == "id":
        return _id_expression(col)
    if f.type == "bool":
        # Some tools write an unchecked checkbox as an empty field (SPEC 2.1).
        value = f"lower({col})" if f.empty_is_unset else f"coalesce(lower({col}), 'false')"
        return (
            f"case {value} when 'true' then true when '1' then true "
            f"when 'false' then false when '0' then false end"
        )
    if f.type == "date":
        # The Data Export writes dates as 2024-02-05 00:00:00.
        return (
            f"case when regexp_full_match({col}, '{_DATE_SHAPE}') "
            f"then try_strptime(left({col}, 10), '%Y-%m-%d')::date end"
        )
    if f.type == "datetime":
        return (
            f"case when regexp_full_match({col}, '{_DATETIME_SHAPE}') "
            f"then timezone('UTC', try_cast({col} as timestamptz)) end"
        )
    if f.type == "integer":
        # A whole number may be exported as 12.0 or 8.0E7; 12.5 is not one.
        return (
            f"case when regexp_full_match({col}, '{_WHOLE_SHAPE}') "
            f"and try_cast({col} as decimal(38, 10)) = floor(try_cast({col} as decimal(38, 10))) "
            f"then try_cast(try_cast({col} as decimal(38, 10)) as integer) end"
        )
    return f"try_cast({col} as {f.sql_type})"


def _shown_sql(value: str) -> str:
    """A value as a reject reason quotes it, in SQL: cut to csv_scan.SHOWN_CHARS."""
    return (
        f"(case when length({value}) > {SHOWN_CHARS} "
        f"then left({value}, {SHOWN_CHARS}) || '…' else {value} end)"
    )


def _problems_expression(obj: CrmObject, present: set[str]) -> str:
    """SQL list of reason strings for one row of `typed` (empty list = the row is fine)."""
    checks = []
    for f in obj.fields:
        if f.name not in present:
            continue
        raw = f"src.{quote_ident(f.name)}"
        blank = f"nullif(trim({raw}), '') is null"
        value = f"typed.{quote_ident(f.name)}"
        # An empty checkbox is false, never missing; an empty lookup (000000000000000AAA)
        # is missing.
        if f.required and f.type != "bool":
            missing = f"{value} is null" if f.type == "id" else blank
            checks.append(f"case when {missing} then 'missing required field {f.name}' end")
        if f.type not in ("text", "id"):
            checks.append(
                f"case when not ({blank}) and {value} is null then "
                f"'{f.name} ' || {_shown_sql(raw)} || ' is not {TYPE_WORDS[f.type]}' end"
            )
        if f.allowed:
            allowed = ", ".join(quote_literal(v) for v in f.allowed)
            checks.append(
                f"case when not ({blank}) and trim({raw}) not in ({allowed}) then "
                f"'{f.name} ' || {_shown_sql(raw)} || ' is not one of {', '.join(f.allowed)}' end"
            )
    if obj.name == "OpportunityLineItem" and "PricebookEntryId" in present:
        entry = 'src."PricebookEntryId"'
        checks.append(
            f"case when typed.\"Product2Id\" is null and nullif(trim({entry}), '') is not null "
            f"then 'PricebookEntryId ' || {_shown_sql(entry)} "
            "|| ' is not in this snapshot''s PricebookEntry file' end"
        )
    if obj.key:
        key = f"typed.{quote_ident(obj.key)}"
        checks.append(
            f"case when dup_count > 1 then 'duplicate {obj.key} ' || {key} "
            f"|| ' in this file (' || dup_count || ' rows); all copies rejected' end"
        )
    return "list_filter([" + ", ".join(checks) + "], lambda x: x is not null)" if checks else "[]"


def _csv_relation(path: Path, names: list[str]) -> str:
    """SQL reading a CSV as text columns named `names`, structural problems to csv_rejects."""
    columns = "{" + ", ".join(f"{quote_literal(n)}: 'VARCHAR'" for n in names) + "}"
    return (
        f"select * from read_csv({quote_literal(str(path))}, columns = {columns}, "
        "header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
        f"max_line_size = {MAX_LINE_BYTES}, store_rejects = true, "
        "rejects_table = 'csv_rejects', rejects_scan = 'csv_scans', rejects_limit = 0)"
    )


# DuckDB's longest record: Salesforce's longest field is 131,072 characters (4 bytes each at
# most in UTF-8), and a record may hold several.
MAX_LINE_BYTES = 64 << 20


def _read_csv_rows(con: duckdb.DuckDBPyConnection, path: Path, names: list[str], where: str):
    con.execute("drop table if exists csv_rejects; drop table if exists csv_scans")
    try:
        con.execute(
            "create or replace temp table file_rows as select *, row_number() over () "
            f"as _ordinal from ({_csv_relation(path, names)}) as src"
        )
    except duckdb.Error as exc:
        raise FileLevelError(f"{where}: cannot be read as CSV ({reader_error(exc)})") from None


def _read_parquet_rows(
    con: duckdb.DuckDBPyConnection, path: Path, obj: CrmObject, where: str
) -> list[str]:
    """file_rows from a Parquet file, every column as text (native DATE, BOOLEAN and DECIMAL
    columns then read as the same values in a CSV); returns the canonical header."""
    source = f"read_parquet({quote_literal(str(path))})"
    try:
        columns = list(con.sql(f"select * from {source}").columns)
    except duckdb.Error as exc:
        raise FileLevelError(
            f"{where}: not a readable Parquet file ({reader_error(exc)})"
        ) from None
    header = canonical_header(obj, columns, where)
    as_text = ", ".join(
        f"{quote_ident(c)}::varchar as {quote_ident(h)}"
        for c, h in zip(columns, header, strict=True)
    )
    con.execute(
        f"create or replace temp table file_rows as select {as_text}, "
        f"row_number() over () as _ordinal from {source}"
    )
    return header


def _scan_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    names: list[str],
    encoding: str,
    scratch: Path,
    where: str,
) -> ScanResult:
    """Read the CSV into file_rows while the independent scan counts its records (the two run
    side by side: DuckDB releases the interpreter while it reads). A file the scan finds not
    clean (or not UTF-8) is rewritten without its bad records, and that copy is read."""
    if encoding.startswith("utf-8"):
        outcome: dict[str, object] = {}

        def count() -> None:
            try:
                outcome["scan"] = scan(path, encoding)
            except (ScanError, OSError) as exc:
                outcome["error"] = exc

        counter = threading.Thread(target=count, name="csv-record-scan")
        counter.start()
        try:
            _read_csv_rows(con, path, names, where)
        except FileLevelError as exc:
            outcome["read_error"] = exc
        finally:
            counter.join()
        if "error" in outcome:
            raise FileLevelError(f"{where}: {outcome['error']}")
        scanned = outcome["scan"]
        assert isinstance(scanned, ScanResult)
        if scanned.clean and "read_error" not in outcome:
            return scanned
        # Not clean, or DuckDB could not read it: the rewritten copy decides.
    rewritten = scratch / "rewritten.csv"
    try:
        scanned = rewrite(path, encoding, rewritten)
    except (ScanError, OSError) as exc:
        raise FileLevelError(f"{where}: {exc}") from None
    _read_csv_rows(con, rewritten, names, where)
    return scanned


def _header_of(export: ExportFile, path: Path, encoding: str) -> list[str]:
    try:
        with path.open(encoding=encoding, errors="surrogateescape", newline="") as handle:
            return csv_header(handle)
    except UnicodeError:
        raise FileLevelError(f"{export.name}: the header does not decode as {encoding}") from None
    except OSError as exc:
        raise FileLevelError(f"{export.name}: cannot be read ({exc.strerror})") from None
    except ScanError as exc:
        message = str(exc)
        if path.stat().st_size == 0:
            message = "the file is empty (not even a header line)"
        raise FileLevelError(f"{export.name}: {message}") from None


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
        path, sha = _materialize(export, scratch)
        # Loaded before, and no object it reads (PricebookEntry) re-delivered since.
        already = con.execute(
            "select count(*) from raw._loads l where object_name = ? and snapshot_date = ? "
            "and file_sha256 = ? and not exists (select 1 from raw._loads r "
            "where r.object_name in (select unnest(?::varchar[])) "
            "and r.snapshot_date = l.snapshot_date and r.loaded_at > l.loaded_at)",
            [obj.name, snapshot_date, sha, list(obj.reads)],
        ).fetchall()[0][0]
        if already:
            return LoadResult(obj.name, snapshot_date, where, 0, 0, 0, (), skipped=True)
        if export.is_parquet:
            header = _read_parquet_rows(con, path, obj, where)
            _check_columns(obj, header, where)
            records = con.execute(
                f"select sum(num_rows) from parquet_file_metadata({quote_literal(str(path))})"
            ).fetchall()[0][0]
            scanned = ScanResult(header, records=int(records or 0))
        else:
            encoding = detect_encoding(path, python_encoding(options.encoding))
            header = canonical_header(obj, _header_of(export, path, encoding), where)
            _check_columns(obj, header, where)
            scanned = _scan_csv(con, path, header, encoding, scratch, where)
        try:
            _collect_parse_rejects(con, scanned, from_csv=not export.is_parquet)
            return _store(con, obj, snapshot_date, export, sha, load_id, header, scanned, options)
        finally:
            con.execute(
                "drop table if exists file_rows; drop table if exists checked_rows; "
                "drop table if exists row_lines; drop table if exists parse_rejects; "
                "drop table if exists line_breaks; drop table if exists incoming"
            )


_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,79}")


def _header_hint(header: list[str]) -> str:
    """What the header holds, for a message: its names when they look like field names,
    never the first line of a file that is no export (a symlink to /etc/passwd)."""
    if all(_FIELD_NAME.fullmatch(name) for name in header) and len(header) <= 200:
        return f"(the header has: {', '.join(header)})"
    return "(its first line is not a header of Salesforce field names)"


def reader_error(exc: Exception) -> str:
    """A reader's error in one line, without the lines of the file it may quote."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return shown(first) if len(first) > 200 else first


def _check_columns(obj: CrmObject, header: list[str], where: str) -> None:
    derivable = _derived_columns(obj, header)
    missing = [n for n in obj.required_fields if n not in header and n not in derivable]
    if missing:
        raise FileLevelError(
            f"{where}: required column {missing[0]} is missing {_header_hint(header)}"
        )
    reserved = [n for n in header if n in VERSION_COLUMNS or n == "_ordinal"]
    if reserved:
        raise FileLevelError(
            f"{where}: column {reserved[0]} is reserved for raw storage; rename it in the export"
        )


def _collect_parse_rejects(
    con: duckdb.DuckDBPyConnection, scanned: ScanResult, from_csv: bool
) -> None:
    """parse_rejects: the scan's rejects and DuckDB's structural ones, at their file lines."""
    breaks = pa.table(
        {
            "first_record": [b[0] for b in scanned.line_breaks],
            "line_offset": [b[1] for b in scanned.line_breaks],
        }
    )
    con.register("line_breaks_arrow", breaks)
    try:
        con.execute(
            "create or replace temp table line_breaks as select * from line_breaks_arrow; "
            "create or replace temp table parse_rejects "
            "(record_number bigint, line_number bigint, raw_values varchar, reason varchar)"
        )
    finally:
        con.unregister("line_breaks_arrow")
    if scanned.rejects:
        found = pa.table(
            {
                "line_number": [r.line_number for r in scanned.rejects],
                "raw_values": [json.dumps({"line": r.raw_values}) for r in scanned.rejects],
                "reason": [r.reason for r in scanned.rejects],
            }
        )
        con.register("scan_rejects_arrow", found)
        try:
            con.execute(
                "insert into parse_rejects select null, line_number, raw_values, reason "
                "from scan_rejects_arrow"
            )
        finally:
            con.unregister("scan_rejects_arrow")
    if not from_csv:
        return
    # DuckDB numbers the records it reads from 2 (header = 1): record k of the scan.
    con.execute(
        f"""
        insert into parse_rejects
        -- DuckDB reports a short record once per missing column: keep one reason a line.
        select line - 1, null, json_object('line', {_shown_sql("any_value(csv_line)")}),
               arg_min(case error_type
                   when 'MISSING COLUMNS' then 'too few fields: ' || error_message
                   when 'TOO MANY COLUMNS' then 'too many fields: ' || error_message
                   when 'INVALID ENCODING' then 'the line is not valid UTF-8'
                   else lower(error_type) || ': ' || error_message
               end, column_idx)
        from csv_rejects
        group by line
        """
    )
    con.execute(
        """
        update parse_rejects p set line_number = p.record_number + b.line_offset
        from (
            select r.record_number, b.line_offset
            from parse_rejects r
            asof join line_breaks b on r.record_number >= b.first_record
        ) b
        where p.record_number = b.record_number
        """
    )


def _store(
    con: duckdb.DuckDBPyConnection,
    obj: CrmObject,
    snapshot_date: date,
    export: ExportFile,
    sha: str,
    load_id: str,
    header: list[str],
    scanned: ScanResult,
    options: IngestOptions,
) -> LoadResult:
    """Type and check file_rows, reconcile with the scan, then replace the snapshot's rows."""
    where = export.name
    read_rows, reader_rejects = con.execute(
        "select (select count(*) from file_rows), "
        "(select count(*) from parse_rejects where record_number is not null)"
    ).fetchone()
    if read_rows + reader_rejects != scanned.records:
        first = con.execute(
            "select min(line_number) from parse_rejects where record_number is not null"
        ).fetchone()[0]
        multi_line = [b for b in scanned.line_breaks if b != (1, 1)]
        if first:
            near = f"; the first record it could not read is on line {first}"
        elif multi_line:
            record, offset = multi_line[0]
            near = f"; the first value with a line break ends before line {record + offset}"
        else:
            near = ""
        raise FileLevelError(
            f"{where}: an RFC 4180 scan counts {scanned.total:,} records, but the reader "
            f"accounts for {read_rows + reader_rejects + len(scanned.rejects):,}{near}. "
            "Nothing of this file was loaded."
        )
    header = _add_derived_columns(con, obj, snapshot_date, header)
    declared = {f.name for f in obj.fields}
    extras = tuple(n for n in header if n not in declared)
    present = set(header)

    # Line numbers of the read rows: the k-th read row is record k + (reader rejects before
    # it) of the file the reader saw; its line is that record's number + the scan's offset.
    con.execute(
        """
        create or replace temp table row_lines as
        -- Read rows from ordinal r - j + 1 on follow reject j (at record r); consecutive
        -- rejects share that ordinal: the last of them counts.
        with rejected as (
            select first_ordinal_after, max(rejects_before) as rejects_before
            from (
                select
                    record_number - row_number() over (order by record_number) + 1
                        as first_ordinal_after,
                    row_number() over (order by record_number) as rejects_before
                from parse_rejects where record_number is not null
            )
            group by first_ordinal_after
        ),
        records as (
            select f._ordinal, f._ordinal + coalesce(r.rejects_before, 0) as record_number
            from file_rows f
            asof left join rejected r on f._ordinal >= r.first_ordinal_after
        )
        select r._ordinal, r.record_number + b.line_offset as _line_number
        from records r
        asof join line_breaks b on r.record_number >= b.first_record
        """
    )
    typed_columns = ", ".join(
        f"{_typed_expression(f, 'src.' + quote_ident(f.name))} as {quote_ident(f.name)}"
        for f in obj.fields
        if f.name in present
    )
    key_window = f"count(*) over (partition by {quote_ident(obj.key)})" if obj.key else "1"
    extra_columns = "".join(f", src.{quote_ident(n)}" for n in extras)
    typed_names = ", ".join(f"typed.{quote_ident(f.name)}" for f in obj.fields if f.name in present)
    time_zone = con.execute("select current_setting('TimeZone')").fetchone()[0]
    # Date-times without an offset are in the org's time zone, never the machine's.
    con.execute(f"set TimeZone = {quote_literal(options.org_time_zone)}")
    try:
        con.execute(
            f"""
            create or replace temp table checked_rows as
            with typed as (
                select src._ordinal, {typed_columns} from file_rows src
            ),
            keyed as (
                select *, {key_window} as dup_count from typed
            )
            select {typed_names}{extra_columns}, src._ordinal, l._line_number,
                   {_problems_expression(obj, present)} as _problems
            from keyed typed
            join file_rows src on src._ordinal = typed._ordinal
            join row_lines l on l._ordinal = typed._ordinal
            """
        )
    finally:
        con.execute(f"set TimeZone = {quote_literal(time_zone)}")
    # The raw values of a rejected row, as the file had them (only rejected rows need them).
    raw_values = (
        "json_object("
        + ", ".join(f"{quote_literal(n)}, src.{quote_ident(n)}" for n in header)
        + ")::varchar"
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
        store_snapshot(con, obj, snapshot_date, source_file=where, file_sha256=sha, load_id=load_id)
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
                where,
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
    _checkpoint(con)
    return LoadResult(obj.name, snapshot_date, where, loaded + rejected, loaded, rejected, extras)


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


_SNAPSHOT_NAME = re.compile(r"([0-9]{4})-?([0-9]{2})-?([0-9]{2})")


@dataclass
class Landing:
    """A landing directory read once: its snapshot folders and what each one holds."""

    root: Path
    snapshots: dict[date, Path]  # snapshot date -> folder, oldest first
    files: dict[date, SnapshotFiles]  # what each snapshot folder holds
    ignored: list[str]  # entries that are not snapshot folders

    @property
    def warnings(self) -> list[str]:
        """What a build of this landing will not load, in words: folders that are no
        snapshot, files in snapshot folders that name no CRM object."""
        warnings = []
        if self.ignored:
            warnings.append(
                f"{self.root}: not snapshot folders (name them YYYY-MM-DD), not loaded: "
                + ", ".join(self.ignored)
            )
        for snapshot_date, folder in self.snapshots.items():
            ignored = self.files[snapshot_date].ignored
            if ignored:
                shown_names = ", ".join(Path(name).name for name in ignored[:10])
                more = f" and {len(ignored) - 10} more" if len(ignored) > 10 else ""
                warnings.append(
                    f"{folder}: files that name no CRM object, not loaded: {shown_names}{more}"
                )
        return warnings


def scan_landing(landing: Path) -> Landing:
    """Snapshot folders (named YYYY-MM-DD, or YYYYMMDD) of a landing directory.

    A folder whose name is no date (`latest`, `2026-02-30`) is listed in `ignored`; two
    folders naming one date (`2026-11-16` and `20261116`) are a file-level error: which one
    is the export of that day is a person's call.
    """
    if not landing.is_dir():
        raise FileLevelError(f"{landing}: landing directory does not exist")
    snapshots: dict[date, Path] = {}
    ignored = []
    for child in sorted(landing.iterdir()):
        if child.name.startswith("."):
            continue
        match = _SNAPSHOT_NAME.fullmatch(child.name) if child.is_dir() else None
        try:
            snapshot_date = date(*(int(part) for part in match.groups())) if match else None
        except ValueError:
            snapshot_date = None
        if snapshot_date is None:
            ignored.append(child.name + ("/" if child.is_dir() else ""))
            continue
        if snapshot_date in snapshots:
            raise FileLevelError(
                f"{landing}: two folders name snapshot {snapshot_date}: "
                f"{snapshots[snapshot_date].name} and {child.name}; keep one"
            )
        snapshots[snapshot_date] = child
    if not snapshots:
        raise FileLevelError(
            f"{landing}: no snapshot folders (expected sub-folders named YYYY-MM-DD)"
        )
    files = {snapshot_date: snapshot_files(folder) for snapshot_date, folder in snapshots.items()}
    for snapshot_date, folder in snapshots.items():
        if not files[snapshot_date].files:
            raise FileLevelError(f"{folder}: snapshot {snapshot_date} holds no CRM export files")
    return Landing(landing, dict(sorted(snapshots.items())), files, ignored)


def list_snapshots(landing: Path) -> dict[date, Path]:
    """Snapshot folders of a landing directory, oldest first (see scan_landing)."""
    return scan_landing(landing).snapshots


@dataclass(frozen=True)
class DeliveryLimits:
    """The delivery gates of SPEC 3, from the settings max_row_drop_pct and max_reject_pct."""

    max_row_drop_pct: float = 50
    max_reject_pct: float = 5


def delivery_problems(
    con: duckdb.DuckDBPyConnection, obj: CrmObject, result: LoadResult, limits: DeliveryLimits
) -> list[str]:
    """Why a snapshot just loaded must not be published without a person's word (SPEC 3):
    a required object without rows, rows falling by more than the limit against the
    previous snapshot, or more than the limit of a file's rows rejected."""
    day = f"{obj.name}, snapshot {result.snapshot_date}"
    source = result.source_file or f"no {obj.name} file"
    problems = []
    if not obj.optional and result.rows_in_file == 0:
        problems.append(f"{day}: {source} has no rows (a required object must have rows)")
    if (
        result.rows_in_file
        and result.rows_rejected * 100 > limits.max_reject_pct * result.rows_in_file
    ):
        problems.append(
            f"{day}: {result.rows_rejected:,} of {result.rows_in_file:,} rows of {source} "
            f"rejected ({100 * result.rows_rejected / result.rows_in_file:.0f}%, more than "
            f"max_reject_pct {limits.max_reject_pct:g}%); see raw.rejects"
        )
    # Against the snapshots either side (a backfilled day has a later one already loaded).
    for side, order in (("<", "desc"), (">", "asc")):
        neighbour = con.execute(
            "select snapshot_date, rows_loaded from raw._loads where object_name = ? "
            f"and snapshot_date {side} ? order by snapshot_date {order} limit 1",
            [obj.name, result.snapshot_date],
        ).fetchall()
        if not neighbour:
            continue
        other_date, other = neighbour[0]
        if other and (other - result.rows_loaded) * 100 > limits.max_row_drop_pct * other:
            problems.append(
                f"{day}: {result.rows_loaded:,} rows loaded, {other:,} on {other_date} "
                f"(down {100 * (other - result.rows_loaded) / other:.0f}%, more than "
                f"max_row_drop_pct {limits.max_row_drop_pct:g}%)"
            )
    return problems


def check_time_zone(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """A ValueError unless DuckDB knows the time zone `name` (org_time_zone)."""
    known = con.execute(
        "select count(*) from pg_timezone_names() where name = ?", [name]
    ).fetchall()[0][0]
    if not known:
        raise ValueError(f"org_time_zone {name!r} is not a time zone name such as Europe/Berlin")
