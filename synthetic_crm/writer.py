"""How the generator writes a snapshot: Salesforce-style Ids, dates and date-times as the
canonical export has them (SPEC §2), and the one CSV writer, whose header is the field
list ingest declares (dagster_project/lib/crm_schema.py)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from dagster_project.lib.crm_schema import OBJECTS_BY_NAME

# fmt: off
# Salesforce key prefixes; the rest of an Id is a zero-padded sequence (18 characters).
ID_PREFIX = {
    "Account": "001", "Opportunity": "006", "Product2": "01t", "OpportunityLineItem": "00k",
    "OpportunityLineItemSchedule": "00o", "User": "005", "Order": "801", "OrderItem": "802",
    "Contract": "800", "Quote": "0Q0", "OpportunitySplitType": "149", "OpportunitySplit": "04x",
}
# fmt: on
DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def header(object_name: str) -> list[str]:
    """The object's CSV header: its declared Salesforce API field names, in SPEC §2 order."""
    return [field.name for field in OBJECTS_BY_NAME[object_name].fields]


def sf_id(object_name: str, column: str) -> pl.Expr:
    """Salesforce-style 18-character Id from a 0-based row number (-1 = no reference)."""
    return pl.when(pl.col(column) >= 0).then(
        pl.lit(ID_PREFIX[object_name]) + (pl.col(column) + 1).cast(pl.String).str.zfill(15)
    )


def as_date(column: str) -> pl.Expr:
    """Epoch day (-1 = empty) as a date."""
    return pl.when(pl.col(column) >= 0).then(pl.col(column).cast(pl.Int32).cast(pl.Date))


def as_datetime(column: str) -> pl.Expr:
    """Epoch seconds (-1 = empty) as a UTC datetime."""
    return pl.when(pl.col(column) >= 0).then(pl.from_epoch(pl.col(column), time_unit="s"))


def optional_int(column: str) -> pl.Expr:
    """A whole number, -1 meaning empty."""
    return pl.when(pl.col(column) >= 0).then(pl.col(column))


def write_object(folder: Path, object_name: str, frame: pl.DataFrame) -> int:
    """Write one object's rows as folder/<Object>.csv, columns in header order; return
    the number of rows written."""
    frame = frame.select(header(object_name))
    frame.write_csv(
        folder / f"{object_name}.csv",
        date_format=DATE_FORMAT,
        datetime_format=DATETIME_FORMAT,
        float_precision=_float_precision(object_name),
        null_value="",
    )
    return frame.height


def _float_precision(object_name: str) -> int:
    """Decimals written for floats: rates carry more digits than money and quantities."""
    fields = OBJECTS_BY_NAME[object_name].fields
    return 6 if any(field.type == "rate" for field in fields) else 2
