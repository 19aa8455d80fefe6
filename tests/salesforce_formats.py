"""The canonical demo snapshots rewritten the way Salesforce's own tools write them (SPEC 2.1).

Each writer follows the tool's published description: what its header, quoting, null,
number, date and date-time spellings look like, its encoding and line ending, where its
file goes. Tests build a warehouse from the rewritten folders and compare its marts with
the canonical build's.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from dagster_project.lib.crm_schema import OBJECTS_BY_NAME, Field

NULL_LOOKUP = "000000000000000AAA"


def read_canonical(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _fields(object_name: str) -> dict[str, Field]:
    return {f.name: f for f in OBJECTS_BY_NAME[object_name].fields}


def java_number(text: str) -> str:
    """A number as Java's Double.toString writes it (Data Loader): 7.0, 2212.5, 8.0E7."""
    value = float(text)
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    mantissa = "".join(map(str, digits))
    power = len(digits) - 1 + exponent
    return f"{'-' if sign else ''}{mantissa[0]}.{mantissa[1:] or '0'}E{power}"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _convert(
    object_name: str, header: list[str], rows: list[list[str]], value: Callable[[Field, str], str]
) -> list[list[str]]:
    fields = _fields(object_name)
    return [
        [
            value(fields[n], v) if n in fields and v != "" else v
            for n, v in zip(header, r, strict=True)
        ]
        for r in rows
    ]


def _write(path: Path, header: list[str], rows: list[list[str]], *, quote_all: bool,
           line_end: str, encoding: str = "utf-8") -> None:  # fmt: skip
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
        lineterminator=line_end,
    )
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def data_loader_v60(source: Path, target: Path, object_name: str) -> None:
    """Data Loader up to v60: UPPER-CASE headers, every value quoted, null as "", date-times
    with milliseconds and Z, numbers as Java doubles, CRLF; the file name is the user's
    (here the object's, in lower case), plus a relationship column on Opportunity."""
    header, rows = read_canonical(source)

    def value(f: Field, v: str) -> str:
        if f.type in ("number", "integer", "rate"):
            return java_number(v)
        if f.type == "datetime":
            return _utc(v).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return v

    rows = _convert(object_name, header, rows, value)
    if object_name == "Opportunity":
        header, rows = [*header, "ACCOUNT.NAME"], [[*r, f"Account of {r[1]}"] for r in rows]
    _write(target / f"{object_name.lower()}.csv", [h.upper() for h in header], rows,
           quote_all=True, line_end="\r\n")  # fmt: skip


def data_loader_v61(source: Path, target: Path, object_name: str) -> None:
    """Data Loader v61 and later: API-case headers, UTF-8 with a BOM, every value quoted, CRLF."""
    header, rows = read_canonical(source)
    _write(target / f"{object_name}.csv", header, rows, quote_all=True, line_end="\r\n",
           encoding="utf-8-sig")  # fmt: skip


def bulk_api(source: Path, target: Path, object_name: str) -> None:
    """Bulk API 2.0 / `sf data export bulk`: API-case headers as queried, every value quoted,
    E-notation for large numbers; Ids as some tools pad them, with spaces."""
    header, rows = read_canonical(source)

    def value(f: Field, v: str) -> str:
        if f.type in ("number", "rate") and abs(float(v)) >= 1e7:
            return java_number(v)
        if f.name == "Id":
            return f" {v} "
        return v

    _write(target / f"{object_name}.csv", header, _convert(object_name, header, rows, value),
           quote_all=True, line_end="\n")  # fmt: skip


def sf_data_query(source: Path, target: Path, object_name: str) -> None:
    """`sf data query --result-format csv`: minimal quoting, date-times …T11:25:00.000+0000."""
    header, rows = read_canonical(source)

    def value(f: Field, v: str) -> str:
        if f.type == "datetime":
            return _utc(v).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        return v

    _write(target / f"{object_name}.csv", header, _convert(object_name, header, rows, value),
           quote_all=False, line_end="\n")  # fmt: skip


def parquet_native(source: Path, target: Path, object_name: str) -> None:
    """Parquet with native types: DATE, BOOLEAN, DOUBLE and UTC TIMESTAMP columns."""
    frame = pl.read_csv(source, infer_schema=False)
    casts = []
    for f in OBJECTS_BY_NAME[object_name].fields:
        if f.name not in frame.columns:
            continue
        column = pl.col(f.name)
        if f.type == "date":
            casts.append(column.str.to_date("%Y-%m-%d"))
        elif f.type == "datetime":
            casts.append(column.str.to_datetime(time_zone="UTC"))
        elif f.type == "bool":
            casts.append(column.str.to_lowercase().replace_strict({"true": True, "false": False}))
        elif f.type in ("number", "rate"):
            casts.append(column.cast(pl.Float64))
        elif f.type == "integer":
            casts.append(column.cast(pl.Int64))
    frame.with_columns(casts).write_parquet(target / f"{object_name}.parquet")


def data_export_zip(source_folder: Path, target: Path, org_time_zone: str) -> None:
    """The weekly Data Export: one ZIP of <Object>.csv files in ISO-8859-1, dates as
    2024-02-05 00:00:00, date-times in the org's time zone without a zone, booleans 0/1,
    empty lookups 000000000000000AAA, line items with PricebookEntryId instead of
    Product2Id (PricebookEntry.csv maps it), User with FirstName and LastName, and files of
    objects the warehouse does not read."""
    zone = ZoneInfo(org_time_zone)
    members: dict[str, str] = {}
    pricebook = {}
    for path in sorted(source_folder.glob("*.csv")):
        object_name = path.stem
        header, rows = read_canonical(path)

        def value(f: Field, v: str) -> str:
            if f.type == "date":
                return f"{v} 00:00:00"
            if f.type == "datetime":
                return _utc(v).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
            if f.type == "bool":
                return "1" if v.lower() == "true" else "0"
            return v

        rows = _convert(object_name, header, rows, value)
        fields = _fields(object_name)
        for row in rows:
            for i, name in enumerate(header):
                if row[i] == "" and fields[name].type == "id" and name != "Id":
                    row[i] = NULL_LOOKUP
        if object_name == "OpportunityLineItem":
            at = header.index("Product2Id")
            for row in rows:
                entry = "01u" + row[at][3:]
                pricebook[entry] = row[at]
                row[at] = entry
            header = [*header[:at], "PricebookEntryId", *header[at + 1 :]]
        if object_name == "User":
            at = header.index("Name")
            header = [*header[:at], "FirstName", "LastName", *header[at + 1 :]]
            rows = [[*r[:at], *_split_name(r[at]), *r[at + 1 :]] for r in rows]
        members[f"{object_name}.csv"] = _csv_text(header, rows)
    members["PricebookEntry.csv"] = _csv_text(
        ["Id", "Pricebook2Id", "Product2Id", "UnitPrice", "IsActive"],
        [[e, "01s000000000000001", p, "0", "1"] for e, p in sorted(pricebook.items())],
    )
    members["Lead.csv"] = _csv_text(["Id", "LastName"], [["00Q000000000000001", "Prospect"]])
    with zipfile.ZipFile(target / "WE_00D5g000000demo_1.ZIP", "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, text.encode("iso-8859-1"))


def _split_name(name: str) -> list[str]:
    first, _, last = name.partition(" ")
    return [first, last] if last else ["", first]


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
