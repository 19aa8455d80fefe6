"""The raw schema of a warehouse: one versioned table per CRM object (lib/raw_store.py),
the rejects and the load log, and the columns a new export adds to it."""

from __future__ import annotations

import duckdb

from ..crm_schema import OBJECTS, CrmObject
from ..raw_store import (
    create_snapshot_view,
    create_tables,
    data_columns,
    quote_ident,
    rehash,
    versions_table,
)
from .errors import OldRawLayoutError


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
    """Create the raw schema: the snapshot calendar, one versioned table per object, the
    rejects and the load log.

    A warehouse whose raw tables are in the layout before versioned storage is refused
    (`OldRawLayoutError`) before anything changes."""
    con.execute("create schema if not exists raw")
    refuse_old_layout(con)
    con.execute(
        "create table if not exists raw.snapshots (snapshot_date date primary key, "
        "folder varchar, found_at timestamp)"
    )
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


def evolve_raw_schema(
    con: duckdb.DuckDBPyConnection, obj: CrmObject, extras: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """Add the file's extra columns the raw table lacks (as text): the table's data columns
    afterwards, and the columns added."""
    columns = data_columns(con, obj)
    added = [name for name in extras if name not in columns]
    for name in added:
        con.execute(f"alter table {versions_table(obj)} add column {quote_ident(name)} varchar")
        columns.append(name)  # added columns come last, as data_columns lists them
    return columns, added


def show_added_columns(con: duckdb.DuckDBPyConnection, obj: CrmObject) -> None:
    """After columns were added: every stored version re-hashed over the new columns (see
    raw_store.rehash) and raw.<object> defined again to show them."""
    rehash(con, obj)
    create_snapshot_view(con, obj)
