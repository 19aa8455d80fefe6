"""The renewal opportunities to create (SPEC 4.10) as a CSV for the Salesforce Data Loader.

Plain Python over a published warehouse: opens it read-only (analysts and other readers
are never blocked), reads marts.renewal_opportunities_to_create and writes it with exactly
the Data Loader's Opportunity columns.

The file is opened in a spreadsheet before it is imported (to review, to change a stage),
so its text cells are neutralized like every CSV for people (lib/outputs.py): a Name that
starts with = + - @ (an account named "=HYPERLINK(...)") is written with a leading single
quote, and the Data Loader then imports the quote as part of the Name: the opportunity
shows the text literally instead of a spreadsheet running it. Ids, dates and amounts
never start with those characters and are written as they are.
"""

import csv
from pathlib import Path

import duckdb

from dagster_project.lib.outputs import (
    check_output_path,
    landing_folders,
    neutralize,
    write_atomically,
)

MART = "marts.renewal_opportunities_to_create"
COLUMNS = ("AccountId", "Name", "Type", "StageName", "CloseDate", "Amount")


def _cell(value: object) -> str:
    # Dates as YYYY-MM-DD and decimals as plain numbers, the formats the Data Loader reads.
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralize(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def export_renewals(warehouse: Path, out: Path) -> int:
    """Write the renewal opportunities to create to `out` as CSV; return the rows written.

    The header is exactly AccountId,Name,Type,StageName,CloseDate,Amount; UTF-8 without a
    BOM, RFC 4180 quoting, rows ordered by CloseDate, AccountId and Name so exports diff well.
    `out` may not be a file of the warehouse or of its landing folder (OutputPathError).
    """
    out = Path(out)
    select_list = ", ".join(f'"{column}"' for column in COLUMNS)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        check_output_path(out, warehouse, landing_folders(con))
        rows = con.execute(
            f'select {select_list} from {MART} order by "CloseDate", "AccountId", "Name"'
        ).fetchall()
    out.parent.mkdir(parents=True, exist_ok=True)

    def write(partial: Path) -> None:
        with partial.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(COLUMNS)
            writer.writerows([_cell(value) for value in row] for row in rows)

    write_atomically(out, write)
    return len(rows)
