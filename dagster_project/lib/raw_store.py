"""Versioned storage of daily full snapshots: raw.<object>_versions and raw.<object>.

A CRM export is a full copy every day, and most rows do not change from one day to the
next. Storing every snapshot's rows would grow as rows x days; instead
raw.<object>_versions keeps one row per *version*: a row's values together with the
first and the last snapshot that showed them (`_first_snapshot_date`,
`_last_snapshot_date`, both inclusive) and the load that first stored it (`_source_file`,
`_file_sha256`, `_load_id`, `_loaded_at`, `_line_number`: its line in that file).

The invariant: a version shows in every loaded snapshot of its object from its first to
its last snapshot, and in no other. Every snapshot of raw.snapshots is loaded for every
object (an absent optional file is loaded as an empty snapshot), so the rows of
snapshot S are exactly

    select ... from raw.<object>_versions
    where S between _first_snapshot_date and _last_snapshot_date

The view raw.<object> decodes every snapshot this way: one row per snapshot and row,
with `_snapshot_date` and the load metadata of SPEC section 3.

A version's identity is its row hash (all data columns, extra columns included), its
occurrence number among identical rows of the same file (DatedConversionRate has no Id
and may repeat a row) and, for objects with an Id, the Id itself: two different rows
could share a 64-bit hash, but then also the Id would have to match.

`store_snapshot` replaces one snapshot's rows with new ones, in any order (first load,
re-delivery of the same day, an older day backfilled after newer ones) in a fixed number
of set-based statements, touching only versions that start, end or cross that snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import duckdb

from .crm_schema import CrmObject

# The load that stored a version (SPEC section 3 names these, with _snapshot_date).
PROVENANCE_COLUMNS = {
    "_source_file": "VARCHAR",
    "_file_sha256": "VARCHAR",
    "_load_id": "VARCHAR",
    "_loaded_at": "TIMESTAMP",
    "_line_number": "BIGINT",
}
# Identity and bounds of a version, then its provenance.
VERSION_COLUMNS = {
    "_row_hash": "UBIGINT",
    "_occurrence": "INTEGER",
    "_first_snapshot_date": "DATE",
    "_last_snapshot_date": "DATE",
    **PROVENANCE_COLUMNS,
}


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """`value` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def versions_table(obj: CrmObject) -> str:
    return f"raw.{obj.table}_versions"


def create_tables(con: duckdb.DuckDBPyConnection, obj: CrmObject, extras: list[str]) -> None:
    """The versions table of an object (if missing) and its per-snapshot view."""
    columns = [f"{quote_ident(f.name)} {f.sql_type}" for f in obj.fields]
    columns += [f"{quote_ident(name)} varchar" for name in extras]
    columns += [f"{name} {sql_type}" for name, sql_type in VERSION_COLUMNS.items()]
    con.execute(f"create table if not exists {versions_table(obj)} ({', '.join(columns)})")
    create_snapshot_view(con, obj)


def create_snapshot_view(con: duckdb.DuckDBPyConnection, obj: CrmObject) -> None:
    """raw.<object>: every loaded snapshot's rows, decoded from the versions (again after
    a new extra column)."""
    columns = ", ".join(f"v.{quote_ident(c)}" for c in data_columns(con, obj))
    provenance = ", ".join(f"v.{c}" for c in PROVENANCE_COLUMNS)
    con.execute(
        f"""
        create or replace view raw.{obj.table} as
        select {columns}, l.snapshot_date as _snapshot_date, {provenance}
        from {versions_table(obj)} v
        join raw._loads l
          on l.object_name = '{obj.name}'
         and l.snapshot_date between v._first_snapshot_date and v._last_snapshot_date
        """
    )


@dataclass(frozen=True)
class Neighbours:
    """The loaded snapshots of an object just before and just after a given one."""

    previous: date | None
    next: date | None


def rows_per_object(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int]]:
    """(object, rows loaded, rows rejected) over every load of the warehouse, by object."""
    return con.execute(
        "select object_name, sum(rows_loaded)::bigint, sum(rows_rejected)::bigint "
        "from raw._loads group by 1 order by 1"
    ).fetchall()


def raw_table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of raw.<table>, in table order."""
    return [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'raw' and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
    ]


def data_columns(con: duckdb.DuckDBPyConnection, obj: CrmObject) -> list[str]:
    """The versions table's CRM columns in table order: declared fields, then extras."""
    table = versions_table(obj).removeprefix("raw.")
    return [c for c in raw_table_columns(con, table) if c not in VERSION_COLUMNS]


def neighbours(con: duckdb.DuckDBPyConnection, obj: CrmObject, snapshot_date: date) -> Neighbours:
    previous, following = con.execute(
        "select max(snapshot_date) filter (snapshot_date < $s), "
        "min(snapshot_date) filter (snapshot_date > $s) "
        "from raw._loads where object_name = $o",
        {"s": snapshot_date, "o": obj.name},
    ).fetchone()
    return Neighbours(previous, following)


def incoming_sql(columns: list[str], rows_sql: str) -> str:
    """SQL adding identity columns to rows shaped like the raw table (plus _line_number,
    _ordinal): the input `store_snapshot` expects in the temp table `incoming`."""
    hashed = ", ".join(quote_ident(c) for c in columns)
    return f"""
        select *, row_number() over (partition by _row_hash order by _ordinal)::integer
                  as _occurrence
        from (select *, hash({hashed}) as _row_hash from ({rows_sql}))
    """


def rehash(con: duckdb.DuckDBPyConnection, obj: CrmObject) -> None:
    """Recompute every stored version's hash over the table's current columns, after an
    extra column was added: hash(a, b) differs from hash(a, b, null), and unchanged rows
    would otherwise all start new versions."""
    columns = ", ".join(quote_ident(c) for c in data_columns(con, obj))
    con.execute(f"update {versions_table(obj)} set _row_hash = hash({columns})")


def same_version(obj: CrmObject, left: str, right: str) -> str:
    """SQL condition: rows `left` and `right` have the same version identity."""
    condition = f"{left}._row_hash = {right}._row_hash and {left}._occurrence = {right}._occurrence"
    if obj.key:
        key = quote_ident(obj.key)
        condition += f" and {left}.{key} = {right}.{key}"
    return condition


def store_snapshot(
    con: duckdb.DuckDBPyConnection,
    obj: CrmObject,
    snapshot_date: date,
    *,
    source_file: str | None,
    file_sha256: str | None,
    load_id: str,
) -> None:
    """Make the rows of temp table `incoming` the rows of `snapshot_date` in raw.<object>.

    Call inside the caller's transaction, before raw._loads records this load (the
    neighbours are read from raw._loads, without `snapshot_date` itself).
    """
    table = versions_table(obj)
    around = neighbours(con, obj, snapshot_date)
    params = {
        "s": snapshot_date,
        "p": around.previous,
        "n": around.next,
        "source_file": source_file,
        "file_sha256": file_sha256,
        "load_id": load_id,
    }
    same = same_version(obj, "v", "i")

    def run(sql: str) -> None:
        # Bind exactly the parameters the statement names (DuckDB refuses unused ones).
        used = set(re.findall(r"\$(\w+)", sql))
        con.execute(sql, {k: v for k, v in params.items() if k in used})

    # $s is the snapshot, $p and $n the loaded snapshots before and after it.
    for step in (
        _take_snapshot_out,
        _split_versions_it_no_longer_shows,
        _join_versions_it_bridges,
        _extend_versions_it_shows,
        _insert_new_versions,
    ):
        step(run, table, obj, same)
    con.execute("drop table if exists crossing_not_shown; drop table if exists rejoined")


def _take_snapshot_out(run: Callable[[str], None], table: str, obj: CrmObject, same: str) -> None:
    """Step 1: Take the snapshot out (a no-op when it was never loaded). With it gone, the
    previous and the next loaded snapshots are neighbours, so a version crossing it stays
    contiguous; only versions starting or ending on it move."""
    run(f"delete from {table} where _first_snapshot_date = $s and _last_snapshot_date = $s")
    run(f"update {table} set _first_snapshot_date = $n where _first_snapshot_date = $s")
    run(f"update {table} set _last_snapshot_date = $p where _last_snapshot_date = $s")


def _split_versions_it_no_longer_shows(
    run: Callable[[str], None], table: str, obj: CrmObject, same: str
) -> None:
    """Step 2a: A version running from before to after it that the snapshot does not show any
    more splits in two: up to the previous snapshot, and from the next one on."""
    run(
        f"""
        create or replace temp table crossing_not_shown as
        select v.* from {table} v
        where v._first_snapshot_date < $s and v._last_snapshot_date > $s
          and not exists (select 1 from incoming i where {same})
        """
    )
    run(
        f"""
        insert into {table} by name
        select * replace ($n::date as _first_snapshot_date) from crossing_not_shown
        """
    )
    run(
        f"""
        update {table} v set _last_snapshot_date = $p
        from crossing_not_shown i
        where {same} and v._first_snapshot_date = i._first_snapshot_date
        """
    )


def _join_versions_it_bridges(
    run: Callable[[str], None], table: str, obj: CrmObject, same: str
) -> None:
    """Step 2b: A row that the previous and the next snapshot both show as two versions (the
    snapshot in between showed something else, or was not loaded yet): one version."""
    run(
        f"""
        create or replace temp table rejoined as
        select v._row_hash, v._occurrence, {f"v.{quote_ident(obj.key)}," if obj.key else ""}
               v._last_snapshot_date as _new_last
        from {table} v
        where v._first_snapshot_date = $n
          and exists (select 1 from incoming i where {same})
          and exists (
              select 1 from {table} e
              where e._last_snapshot_date = $p and {same_version(obj, "v", "e")}
          )
        """
    )
    run(
        f"""
        update {table} v set _last_snapshot_date = i._new_last
        from rejoined i where {same} and v._last_snapshot_date = $p
        """
    )
    run(f"delete from {table} v using rejoined i where {same} and v._first_snapshot_date = $n")


def _extend_versions_it_shows(
    run: Callable[[str], None], table: str, obj: CrmObject, same: str
) -> None:
    """Step 2c: Versions ending just before or starting just after it that it shows: extended."""
    run(
        f"""
        update {table} v set _last_snapshot_date = $s
        from incoming i where {same} and v._last_snapshot_date = $p
        """
    )
    run(
        f"""
        update {table} v set _first_snapshot_date = $s
        from incoming i where {same} and v._first_snapshot_date = $n
        """
    )


def _insert_new_versions(run: Callable[[str], None], table: str, obj: CrmObject, same: str) -> None:
    """Step 2d: Rows no version covers yet: new versions of this snapshot alone."""
    run(
        f"""
        insert into {table} by name
        select i.* exclude (_ordinal),
               $s::date as _first_snapshot_date, $s::date as _last_snapshot_date,
               $source_file::varchar as _source_file,
               $file_sha256::varchar as _file_sha256,
               $load_id::varchar as _load_id,
               current_timestamp::timestamp as _loaded_at
        from incoming i
        where not exists (
            select 1 from {table} v
            where {same} and $s between v._first_snapshot_date and v._last_snapshot_date
        )
        """
    )
