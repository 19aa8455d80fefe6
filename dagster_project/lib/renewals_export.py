"""The renewal opportunities to create (SPEC 4.10) as a CSV for the Salesforce Data Loader.

Plain Python over a published warehouse: opens it read-only (analysts and other readers
are never blocked), reads marts.renewal_opportunities_to_create and writes it with exactly
the Data Loader's Opportunity columns.
"""

import csv
from pathlib import Path

import duckdb

MART = "marts.renewal_opportunities_to_create"
COLUMNS = ("AccountId", "Name", "Type", "StageName", "CloseDate", "Amount")


def _cell(value: object) -> str:
    # Dates as YYYY-MM-DD and decimals as plain numbers, the formats the Data Loader reads.
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def export_renewals(warehouse: Path, out: Path) -> int:
    """Write the renewal opportunities to create to `out` as CSV; return the rows written.

    The header is exactly AccountId,Name,Type,StageName,CloseDate,Amount; UTF-8 without a
    BOM, RFC 4180 quoting, rows ordered by CloseDate, AccountId and Name so exports diff well.
    """
    select_list = ", ".join(f'"{column}"' for column in COLUMNS)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            f'select {select_list} from {MART} order by "CloseDate", "AccountId", "Name"'
        ).fetchall()
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        writer.writerows([_cell(value) for value in row] for row in rows)
    return len(rows)
