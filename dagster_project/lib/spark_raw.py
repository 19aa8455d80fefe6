"""Raw on Spark: the DuckDB ingest's raw tables as Parquet tables of a lakehouse (SPEC 8).

Ingest stays on DuckDB for now (issue #18 allows it): it validates, types and versions
the CRM exports into raw.* of a DuckDB file as it always does. `export_raw_tables`
copies every raw table of that file to `<lakehouse>/raw/<table>/` as Parquet, and
`register_lakehouse_tables` names them in the Spark catalog as `raw.<table>`, so the dbt
sources (schema `raw`, the same identifiers) read them on Spark unchanged.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from pyspark.sql import SparkSession

RAW_SCHEMA = "raw"
# Every schema a Spark build writes, each at <lakehouse>/<schema>/ (marts at marts/<mart>/).
LAKEHOUSE_SCHEMAS = (RAW_SCHEMA, "reference", "staging", "intermediate", "marts", "semantic")
PARQUET_FILE = "data.parquet"


def export_raw_tables(warehouse: Path, lakehouse: Path) -> list[str]:
    """Copy every raw table of the DuckDB `warehouse` to `<lakehouse>/raw/<table>/`.

    The raw.<object> views are left out: staging decodes snapshots from the versions
    tables itself. A table's folder is replaced whole, so a re-export never mixes loads.
    Returns the exported table names.
    """
    raw_folder = Path(lakehouse).resolve() / RAW_SCHEMA
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
                [RAW_SCHEMA],
            ).fetchall()
        ]
        for table in tables:
            folder = raw_folder / table
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            target = str(folder / PARQUET_FILE).replace("'", "''")
            con.execute(f"copy {RAW_SCHEMA}.\"{table}\" to '{target}' (format parquet)")
    return tables


def register_lakehouse_tables(spark: SparkSession, lakehouse: Path) -> None:
    """Create the lakehouse's schemas at <lakehouse>/<schema>/ and name its raw tables.

    A schema created here has its location in the lakehouse, so the tables dbt-spark
    writes into it later land at <lakehouse>/<schema>/<table>/ (not <schema>.db/).
    """
    root = Path(lakehouse).resolve()
    for schema in LAKEHOUSE_SCHEMAS:
        spark.sql(f"create schema if not exists {schema} location '{root / schema}'")
    for folder in sorted((root / RAW_SCHEMA).iterdir()):
        if not (folder / PARQUET_FILE).is_file():
            continue
        table = f"{RAW_SCHEMA}.`{folder.name}`"
        # External tables: dropping one forgets the name, never the exported files.
        spark.sql(f"drop table if exists {table}")
        spark.sql(f"create table {table} using parquet location '{folder}'")
