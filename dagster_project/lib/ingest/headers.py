"""An export's header: every declared field in its API spelling, the required columns
present (or derivable from others, SPEC 2.1), and messages that never echo a file's lines."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb

from ..crm_schema import CrmObject
from ..csv_scan import ScanError, shown
from ..csv_scan import read_header as csv_header
from ..raw_store import VERSION_COLUMNS, quote_ident, quote_literal
from .errors import FileLevelError
from .landing import ExportFile
from .row_rules import id_expression

# Undeclared columns a declared field may derive from (see derived_columns).
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


def derived_columns(obj: CrmObject, header: list[str]) -> dict[str, str]:
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


def add_derived_columns(
    con: duckdb.DuckDBPyConnection, obj: CrmObject, snapshot_date: date, header: list[str]
) -> list[str]:
    """file_rows with the derived required fields added (see derived_columns); the header
    with them."""
    derived = derived_columns(obj, header)
    if not derived:
        return header
    columns = ", ".join(f"{sql} as {quote_ident(name)}" for name, sql in derived.items())
    pricebook = ""
    if "pricebook." in columns:
        entry = id_expression("nullif(trim(src.\"PricebookEntryId\"), '')")
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


def read_export_header(export: ExportFile, path: Path, encoding: str) -> list[str]:
    """The header line of a CSV export as it is written; a FileLevelError saying why when
    there is none to read."""
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


def check_columns(obj: CrmObject, header: list[str], where: str) -> None:
    """A FileLevelError naming the first required column the header lacks (and cannot
    derive), or a column named like a storage column."""
    derivable = derived_columns(obj, header)
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
