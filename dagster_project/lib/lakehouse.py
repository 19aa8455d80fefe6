"""The lakehouse of the Spark engine (SPEC 8): a folder of Parquet tables, laid out so that
any engine can read them by path.

    <lakehouse>/warehouse.duckdb     the ingest's raw versions (DuckDB, as on the DuckDB
                                     engine) and views marts.<mart> over the Parquet marts
    <lakehouse>/marts/<mart>/        every mart of SPEC 5, Parquet: what a build publishes
    <lakehouse>/_build/              a running build's work lakehouse: <schema>/<table>/
                                     Parquet for every relation dbt and the builder write,
                                     and dbt-spark's catalog (_metastore/); removed at the
                                     end of each build

Ingest stays the DuckDB ingest (issue #18 allows it): it validates, types and versions the
CRM exports into raw.* of the work copy of warehouse.duckdb; `export_raw_tables` copies
those tables to `_build/raw/<table>/`, where dbt-spark names them (macros/lakehouse.sql).

The catalog is dbt's alone: embedded Derby admits one JVM at a time, and dbt-spark runs in
dbt's own process. The build process's Spark session (the builder, the checks) uses
Spark's in-memory catalog and names the tables it reads by their folders
(`attach_tables`), so the two never wait on each other.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# The Spark master of a build unless told otherwise: a local session, two threads.
LOCAL_MASTER = "local[2]"
# The heap of each local session's JVM (dbt's and the build process's): 2 GB suits a
# 2-core machine; a bigger one sets more (a Spark Connect server sizes its own).
DRIVER_MEMORY_VARIABLE = "RECURWISE_SPARK_DRIVER_MEMORY"
DEFAULT_DRIVER_MEMORY = "2g"
WAREHOUSE_FILE = "warehouse.duckdb"
BUILD_FOLDER = "_build"
MARTS = "marts"
RAW = "raw"
METASTORE_FOLDER = "_metastore"
# Every schema a Spark build writes, each at _build/<schema>/.
SCHEMAS = (RAW, "reference", "staging", "intermediate", MARTS, "semantic")
PARQUET_FILE = "data.parquet"


def is_remote(master: str) -> bool:
    """A Spark Connect address (sc://host:port) rather than a local master."""
    return master.startswith("sc://")


def spark_master_problem(master: str) -> str | None:
    """Why `master` cannot run a build, or None: a local session (local, local[N],
    local[*]) or a Spark Connect server (sc://host:port) can; nothing else is tested."""
    local = re.fullmatch(r"local(\[([1-9][0-9]*|\*)\])?", master)
    if local or re.fullmatch(r"sc://[^\s/]+.*", master):
        return None
    return (
        f"Spark master {master!r} is neither local[N] (a local session) nor sc://host:port "
        "(a Spark Connect server; docs/spark.md)"
    )


def local_driver_memory() -> str:
    """The JVM heap of a local session: RECURWISE_SPARK_DRIVER_MEMORY, else 2g."""
    return os.environ.get(DRIVER_MEMORY_VARIABLE, "").strip().lower() or DEFAULT_DRIVER_MEMORY


def driver_memory_problem(master: str) -> str | None:
    """Why local_driver_memory() cannot size a local session's JVM on `master`, or None:
    a whole number of kilobytes, megabytes, gigabytes or terabytes (512m, 2g, 16g), as
    Spark reads it. A Spark Connect server sizes its own JVM: never a problem there."""
    memory = local_driver_memory()
    if is_remote(master) or re.fullmatch(r"[1-9][0-9]*[kmgt]", memory):
        return None
    return f"{DRIVER_MEMORY_VARIABLE} {memory!r} is not a JVM memory size such as 512m, 2g or 16g"


def warehouse_file(lakehouse: Path) -> Path:
    """The lakehouse's DuckDB file: raw versions, and views over the published marts."""
    return Path(lakehouse) / WAREHOUSE_FILE


def published_marts_of(warehouse: Path) -> Path | None:
    """The Parquet marts folder whose views `warehouse` holds, if it is a lakehouse's
    warehouse.duckdb (a DuckDB engine's warehouse has none)."""
    marts = Path(warehouse).resolve().parent / MARTS
    return marts if Path(warehouse).name == WAREHOUSE_FILE and marts.is_dir() else None


def build_folder(lakehouse: Path) -> Path:
    """The work lakehouse of the build running on `lakehouse`."""
    return Path(lakehouse).resolve() / BUILD_FOLDER


def table_folder(root: Path, schema: str, table: str) -> Path:
    """Where a table of `root` (a work lakehouse) keeps its Parquet files."""
    return Path(root) / schema / table


def start_build_folder(lakehouse: Path) -> Path:
    """An empty work lakehouse: a build writes every relation afresh from raw."""
    root = build_folder(lakehouse)
    shutil.rmtree(root, ignore_errors=True)
    for schema in SCHEMAS:
        (root / schema).mkdir(parents=True)
    return root


def discard_build_folder(lakehouse: Path) -> None:
    shutil.rmtree(build_folder(lakehouse), ignore_errors=True)


def export_raw_tables(warehouse: Path, root: Path) -> list[str]:
    """Copy every raw table of the DuckDB `warehouse` to `<root>/raw/<table>/`.

    The raw.<object> views are left out: staging decodes snapshots from the versions
    tables itself. A table's folder is replaced whole, so a re-export never mixes loads.
    Returns the exported tables as `raw.<table>`.
    """
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
                [RAW],
            ).fetchall()
        ]
        for table in tables:
            folder = table_folder(root, RAW, table)
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            target = str(folder / PARQUET_FILE).replace("'", "''")
            con.execute(f"copy {RAW}.\"{table}\" to '{target}' (format parquet)")
    return [f"{RAW}.{table}" for table in tables]


def written_tables(root: Path, schema: str) -> list[str]:
    """`schema.table` of every table folder of `schema` in the work lakehouse."""
    folder = Path(root) / schema
    if not folder.is_dir():
        return []
    return [f"{schema}.{path.name}" for path in sorted(folder.iterdir()) if path.is_dir()]


def attach_tables(spark: SparkSession, root: Path, tables: Iterable[str]) -> None:
    """Name `schema.table` tables of the work lakehouse in this session's catalog, read
    from their folders as they are now (a rewritten table is read afresh).

    A local session's catalog is its own. A Spark Connect server's is shared with dbt's
    session: there a table dbt wrote is already named, as a managed table at its folder,
    and is refreshed, never dropped (dropping a managed table deletes its files)."""
    for name in tables:
        schema, table = name.split(".")
        if not spark.catalog.databaseExists(schema):
            # At the schema's own folder, as dbt's (macros/lakehouse.sql): without a location
            # Spark makes spark-warehouse/<schema>.db/ in the working directory. Asked first:
            # `create database if not exists` on an existing one logs "created concurrently".
            spark.sql(f"create database {schema} location '{_quoted(root / schema)}'")
        if spark.catalog.tableExists(f"{schema}.`{table}`"):
            if spark.catalog.getTable(f"{schema}.`{table}`").tableType == "MANAGED":
                spark.catalog.refreshTable(f"{schema}.`{table}`")
                continue
            spark.sql(f"drop table {schema}.`{table}`")
        location = _quoted(table_folder(root, schema, table))
        spark.sql(f"create table {schema}.`{table}` using parquet location '{location}'")


def _quoted(path: Path) -> str:
    """`path` for a single-quoted Spark SQL string."""
    return str(path).replace("'", "\\'")


def publish_marts(lakehouse: Path) -> list[str]:
    """Move the work lakehouse's marts to `<lakehouse>/marts/`, replacing the published
    ones as a whole folder (two renames: readers see the old marts or the new, and a
    failure before the second leaves the old in place). Returns the marts published."""
    lakehouse = Path(lakehouse).resolve()
    built = build_folder(lakehouse) / MARTS
    published = lakehouse / MARTS
    previous = lakehouse / f".{MARTS}.previous"
    shutil.rmtree(previous, ignore_errors=True)
    if published.exists():
        os.replace(published, previous)
    try:
        os.replace(built, published)
    except BaseException:
        if previous.exists():
            os.replace(previous, published)
        raise
    shutil.rmtree(previous, ignore_errors=True)
    return sorted(path.name for path in published.iterdir() if path.is_dir())


def create_mart_views(con: duckdb.DuckDBPyConnection, lakehouse: Path, marts: list[str]) -> None:
    """Views marts.<mart> over the published Parquet marts in the lakehouse's DuckDB file,
    so analysts, the finance report and `recurwise` query the Spark build as they query a
    DuckDB build."""
    con.execute(f"create schema if not exists {MARTS}")
    for mart in marts:
        files = str(Path(lakehouse).resolve() / MARTS / mart / "*.parquet").replace("'", "''")
        con.execute(
            f"create or replace view {MARTS}.\"{mart}\" as select * from read_parquet('{files}')"
        )
