"""Reading an export into the temp table file_rows, beside the independent record scan.

One `read_csv` (or `read_parquet`) per file, every column as text; the scan of
lib/csv_scan.py counts the file's records on its own, so the load can prove it accounted
for each. parse_rejects gathers what neither could read as a record, at its file line."""

from __future__ import annotations

import hashlib
import json
import threading
import zipfile
from pathlib import Path

import duckdb
import pyarrow as pa

from ..crm_schema import CrmObject
from ..csv_scan import ScanError, ScanResult, detect_encoding, python_encoding, rewrite, scan
from ..raw_store import quote_ident, quote_literal
from .errors import FileLevelError
from .headers import canonical_header, check_columns, read_export_header, reader_error
from .landing import ExportFile
from .row_rules import shown_sql


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex (raw._loads keeps it to skip a file loaded before)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def materialize(export: ExportFile, scratch: Path) -> tuple[Path, str]:
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


def read_parquet_rows(
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


def read_csv_with_scan(
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


def collect_parse_rejects(
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
    if from_csv:
        _collect_reader_rejects(con)


def _collect_reader_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB's structural rejects (csv_rejects) into parse_rejects, at their file lines."""
    # DuckDB numbers the records it reads from 2 (header = 1): record k of the scan.
    con.execute(
        f"""
        insert into parse_rejects
        -- DuckDB reports a short record once per missing column: keep one reason a line.
        select line - 1, null, json_object('line', {shown_sql("any_value(csv_line)")}),
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


def number_read_rows(con: duckdb.DuckDBPyConnection) -> None:
    """row_lines: the file line of every read row (file_rows._ordinal -> _line_number).

    The k-th read row is record k + (reader rejects before it) of the file the reader saw;
    its line is that record's number + the scan's offset (line_breaks)."""
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


def reconcile_with_scan(con: duckdb.DuckDBPyConnection, scanned: ScanResult, where: str) -> None:
    """A FileLevelError naming the first problem line unless the rows read and the reader's
    rejects add up to the records the independent scan counted."""
    read_rows, reader_rejects = con.execute(
        "select (select count(*) from file_rows), "
        "(select count(*) from parse_rejects where record_number is not null)"
    ).fetchone()
    if read_rows + reader_rejects == scanned.records:
        return
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


def read_export(
    con: duckdb.DuckDBPyConnection,
    obj: CrmObject,
    export: ExportFile,
    path: Path,
    encoding: str,
    scratch: Path,
) -> tuple[list[str], ScanResult]:
    """file_rows from the export's local copy `path`, with its canonical header (required
    columns checked) and the independent count of its records."""
    where = export.name
    if export.is_parquet:
        header = read_parquet_rows(con, path, obj, where)
        check_columns(obj, header, where)
        records = con.execute(
            f"select sum(num_rows) from parquet_file_metadata({quote_literal(str(path))})"
        ).fetchall()[0][0]
        return header, ScanResult(header, records=int(records or 0))
    encoding = detect_encoding(path, python_encoding(encoding))
    header = canonical_header(obj, read_export_header(export, path, encoding), where)
    check_columns(obj, header, where)
    return header, read_csv_with_scan(con, path, header, encoding, scratch, where)
