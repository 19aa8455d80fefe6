"""Export one mart of a published warehouse to CSV, Parquet or Excel, for finance's tools.

The warehouse is opened read-only, the mart name is checked against the marts the file
really has (so a typo gets the list of names, and nothing but a mart name reaches SQL),
and the file is written beside its target and renamed into place: a failed export never
leaves half a file. The output may not be a file of the warehouse or of its landing
folder (lib/outputs.py). CSV and Excel are for people: CSV text cells that a spreadsheet
would read as a formula get a leading quote; Excel cells are written typed, text as text
(never a formula). Parquet is for tools and keeps every value exactly. Plain Python, no
Dagster import.
"""

from __future__ import annotations

import difflib
import json
import os
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import duckdb
import xlsxwriter

from dagster_project.lib.outputs import (
    OutputPathError,
    check_output_path,
    describe_os_error,
    landing_folders,
    neutralized_sql,
    write_atomically,
)

FORMATS = ("csv", "parquet", "xlsx")
# An Excel sheet holds 1,048,576 rows, the header included.
EXCEL_MAX_ROWS = 1_048_575
_FETCH_ROWS = 10_000


class ExportError(ValueError):
    """The export could not be done; the message says why, in words a person can act on."""


def list_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables and views of schema marts, by name."""
    return [
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by table_name"
        ).fetchall()
    ]


def export_mart(warehouse: Path, mart: str, fmt: str, out: Path) -> int:
    """Write marts.`mart` of `warehouse` to `out` as csv, parquet or xlsx; return rows written."""
    warehouse, out = Path(warehouse), Path(out)
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if out.is_dir():
        raise ExportError(f"{out} is a folder; give the name of the file to write")
    if not out.parent.is_dir():
        raise ExportError(f"folder {out.parent} does not exist; create it first")
    con = _open_warehouse(warehouse)
    with con:
        try:
            check_output_path(out, warehouse, landing_folders(con))
        except OutputPathError as exc:
            raise ExportError(str(exc)) from None
        name = _checked_mart(con, mart, warehouse)
        try:
            if fmt == "xlsx":
                return write_atomically(out, lambda partial: _write_xlsx(con, name, partial))
            return write_atomically(out, lambda partial: _copy(con, name, fmt, partial))
        except OSError as exc:
            raise ExportError(f"cannot write {out}: {describe_os_error(exc)}") from None
        except duckdb.IOException as exc:
            raise ExportError(f"cannot write {out}: {exc}") from None


def _checked_mart(con: duckdb.DuckDBPyConnection, mart: str, warehouse: Path) -> str:
    marts = list_marts(con)
    name = mart.removeprefix("marts.")
    if name in marts:
        return name
    if not marts:
        raise ExportError(f"{warehouse} has no marts; is it a recurwise warehouse?")
    close = difflib.get_close_matches(name, marts, n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    raise ExportError(
        f"no mart named {mart!r} in {warehouse}.{hint} Available marts: {', '.join(marts)}"
    )


def _copy(con: duckdb.DuckDBPyConnection, mart: str, fmt: str, path: Path) -> int:
    # The name was checked against information_schema; the path is a quoted SQL literal.
    target = "'" + str(path).replace("'", "''") + "'"
    if fmt == "parquet":
        return con.execute(f'copy marts."{mart}" to {target} (format parquet)').fetchone()[0]
    columns = con.execute(f'describe marts."{mart}"').fetchall()
    select_list = ", ".join(
        f"{neutralized_sql(_quoted(name))} as {_quoted(name)}"
        if column_type == "VARCHAR"
        else _quoted(name)
        for name, column_type, *_ in columns
    )
    return con.execute(
        f'copy (select {select_list} from marts."{mart}") to {target} (format csv, header true)'
    ).fetchone()[0]


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _write_xlsx(con: duckdb.DuckDBPyConnection, mart: str, path: Path) -> int:
    total = con.execute(f'select count(*) from marts."{mart}"').fetchone()[0]
    if total > EXCEL_MAX_ROWS:
        raise ExportError(
            f"marts.{mart} has {total:,} rows, more than an Excel sheet holds "
            f"({EXCEL_MAX_ROWS:,} below the header); export it as csv or parquet instead"
        )
    result = con.execute(f'select * from marts."{mart}"')
    header = [column[0] for column in result.description]
    first = result.fetchmany(_FETCH_ROWS)
    # CRM text is data, never a formula or a link: write every string as a string.
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    try:
        sheet = workbook.add_worksheet(mart[:31])
        formats = {
            "header": workbook.add_format({"bold": True, "bg_color": "#e9ecef", "border": 1}),
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
            "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
            "time": workbook.add_format({"num_format": "hh:mm:ss"}),
        }
        # constant_memory writes row by row: widths and panes must be set before the data.
        for col, name in enumerate(header):
            sample = [len(str(row[col])) for row in first[:200] if row[col] is not None]
            sheet.set_column(col, col, min(max([len(name), *sample]) + 2, 60))
        sheet.freeze_panes(1, 0)
        for col, name in enumerate(header):
            sheet.write_string(0, col, name, formats["header"])
        rows, chunk = 0, first
        while chunk:
            for values in chunk:
                rows += 1
                for col, value in enumerate(values):
                    _write_cell(sheet, rows, col, value, formats)
            chunk = result.fetchmany(_FETCH_ROWS)
        if rows:
            sheet.autofilter(0, 0, rows, len(header) - 1)
    finally:
        workbook.close()
    return rows


def _write_cell(sheet, row: int, col: int, value: object, formats: dict) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(row, col, float(value))
    elif isinstance(value, datetime):
        # Excel has no time zones: a zoned timestamp is written as its UTC wall time.
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        sheet.write_datetime(row, col, value, formats["datetime"])
    elif isinstance(value, date):
        sheet.write_datetime(row, col, value, formats["date"])
    elif isinstance(value, time):
        sheet.write_datetime(row, col, value, formats["time"])
    else:
        sheet.write_string(row, col, str(value))


MANIFEST = "manifest.json"


def _open_warehouse(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published warehouse, or an ExportError saying why not."""
    if not warehouse.is_file():
        raise ExportError(
            f"warehouse {warehouse} does not exist; run recurwise demo or recurwise build first"
        )
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        raise ExportError(f"cannot open {warehouse} as a DuckDB warehouse: {exc}") from None


def export_all_parquet(warehouse: Path, out_dir: Path) -> dict:
    """Write every mart of `warehouse` to `out_dir/<mart>.parquet` (typed: money stays
    DECIMAL, dates DATE, lists LIST) and a manifest.json naming each file's mart, rows and
    column types, with the warehouse's as-of date and build time; return the manifest.

    Each file is written beside its target and renamed into place, the manifest last: a
    reader that finds the manifest finds every file it names complete.
    """
    warehouse, out_dir = Path(warehouse), Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} is a file; --all writes a folder of Parquet files")
    if not out_dir.parent.is_dir():
        raise ExportError(f"folder {out_dir.parent} does not exist; create it first")
    con = _open_warehouse(warehouse)
    with con:
        marts = list_marts(con)
        if not marts:
            raise ExportError(f"{warehouse} has no marts; is it a recurwise warehouse?")
        out_dir.mkdir(exist_ok=True)
        entries = []
        for mart in marts:
            file = out_dir / f"{mart}.parquet"
            partial = file.with_name(file.name + ".partial")
            try:
                rows = _copy(con, mart, "parquet", partial)
                os.replace(partial, file)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            entries.append(
                {"mart": mart, "file": file.name, "rows": rows, "columns": _columns(con, mart)}
            )
        manifest = {**_build_stamp(con, warehouse), "marts": entries}
    partial = out_dir / (MANIFEST + ".partial")
    partial.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, out_dir / MANIFEST)
    return manifest


def _columns(con: duckdb.DuckDBPyConnection, mart: str) -> list[dict[str, str]]:
    return [
        {"name": name, "type": data_type}
        for name, data_type in con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where schema_name = 'marts' and table_name = ? order by column_index",
            [mart],
        ).fetchall()
    ]


def _build_stamp(con: duckdb.DuckDBPyConnection, warehouse: Path) -> dict[str, str | None]:
    """as_of and built_at of the warehouse: from marts.build_info where the warehouse has
    it (SPEC 5), else the latest snapshot date (the default as-of) and the time the file
    was published (its modification time, UTC)."""
    if "build_info" in list_marts(con):
        as_of, built_at = con.execute(
            "select as_of_date, built_at from marts.build_info"
        ).fetchone()
        # build_info keeps built_at in UTC, without a zone (dbt's run_started_at).
        built_at = built_at if built_at.tzinfo else built_at.replace(tzinfo=UTC)
        return {"as_of": str(as_of), "built_at": built_at.isoformat(), "as_of_source": "build_info"}
    try:
        as_of = con.execute("select max(snapshot_date) from raw.snapshots").fetchone()[0]
    except duckdb.CatalogException:
        as_of = None  # not built by recurwise: no snapshots to date it by
    published = datetime.fromtimestamp(warehouse.stat().st_mtime, UTC)
    return {
        "as_of": as_of.isoformat() if as_of else None,
        "built_at": published.isoformat(timespec="seconds"),
        # Until marts.build_info exists a build's --as-of is not kept in the warehouse.
        "as_of_source": "latest snapshot (the default as-of date)",
    }
