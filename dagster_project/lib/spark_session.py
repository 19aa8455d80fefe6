"""The build process's Spark session on the Spark engine (SPEC 8, docs/spark.md).

One place holds the settings of a Spark session, so the subscription builder, the checks
and the tests run Spark the same way. SQL_SETTINGS fix what SQL means (dates in UTC,
wall-clock timestamps, ANSI off, Parquet tables) and go to every session, local or on a
cluster; LOCAL_RESOURCES size a local session for a 2-core machine, its JVM heap
RECURWISE_SPARK_DRIVER_MEMORY (2g unless set; lib/lakehouse.py). dbt_project/profiles.yml
spells out the same settings for dbt-spark's `method: session`, which runs in dbt's own
process (target `spark`, or `spark_connect` for a Spark Connect server).

A cluster: `spark_session(folder, "sc://host:15002")` connects through Spark Connect
instead; the server keeps its own resources, SQL_SETTINGS are set on the session. This
session never opens the lakehouse's catalog (that is dbt's, lib/lakehouse.py): it reads
and writes tables by their folders.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from dagster_project.lib.lakehouse import LOCAL_MASTER, is_remote, local_driver_memory

# Spark's log of a local session: errors only (the build's console shows its progress).
LOG_SETTINGS = (Path(__file__).parent / "spark_log4j2.properties").as_uri()

# Set by pyspark's Connect session builder (pyspark/sql/session.py) and never unset.
CONNECT_MODE_MARK = "SPARK_CONNECT_MODE_ENABLED"

# Session settings: they change what a query returns, so every engine's session has them.
SQL_SETTINGS = {
    # Dates and timestamps mean the same on every machine (SPEC 2.1: never the machine's zone).
    "spark.sql.session.timeZone": "UTC",
    # `timestamp` is the wall-clock kind, as DuckDB's, the raw Parquet's and dbt's session's
    # (profiles.yml): the check SQL casts mean the same as the models'.
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    # dbt-spark forces it off in its sessions; the same here, so SQL means the same in both.
    "spark.sql.ansi.enabled": "false",
    "spark.sql.sources.default": "parquet",
    # A recursive CTE runs to its end, as on DuckDB: Spark stops one at 1M rows or 100
    # levels by default, and int_accounts_mastered's merge walk starts a row per account.
    "spark.sql.cteRecursionRowLimit": "-1",
    "spark.sql.cteRecursionLevelLimit": "-1",
}

# A 2-core machine: two local threads, two shuffle partitions (the default 200 costs
# seconds of task overhead on demo-sized data); the driver's heap is local_driver_memory().
LOCAL_RESOURCES = {
    "spark.sql.shuffle.partitions": "2",
    "spark.ui.enabled": "false",
    # Progress bars would garble the build's log and the CLI's output.
    "spark.ui.showConsoleProgress": "false",
}


def spark_session(catalog_folder: Path, master: str = LOCAL_MASTER) -> SparkSession:
    """A session on `master`: local (`local[N]`) with LOCAL_RESOURCES, the driver heap of
    RECURWISE_SPARK_DRIVER_MEMORY (fixed when this process starts its JVM) and its catalog's
    folder (spark.sql.warehouse.dir) at `catalog_folder`, the build's work lakehouse as
    dbt's (profiles.yml; Spark's default is spark-warehouse/ in the working directory), or
    a Spark Connect server (`sc://host:port`: the server's folder); SQL_SETTINGS on both.

    Local Python workers run the interpreter of this process, so they see the same polars
    and the same recurwise code as the driver (a cluster's executors need them installed:
    docs/spark.md).
    """
    if is_remote(master):
        session = SparkSession.builder.remote(master).appName("recurwise").getOrCreate()
        for key, value in SQL_SETTINGS.items():
            session.conf.set(key, value)
        return session
    # A local SparkContext starts its Python workers with PYSPARK_PYTHON (default `python3`,
    # which lacks this environment); spark.pyspark.python is read by spark-submit only.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # pyspark marks the process Connect-only once a Connect session was made in it, and
    # stopping that session leaves the mark: a local build after a Connect build in one
    # process (a code server, a test run) would be refused without this.
    os.environ.pop(CONNECT_MODE_MARK, None)
    builder = SparkSession.builder.appName("recurwise").master(master)
    for key, value in {**SQL_SETTINGS, **LOCAL_RESOURCES}.items():
        builder = builder.config(key, value)
    return (
        builder.config("spark.driver.memory", local_driver_memory())
        .config("spark.sql.warehouse.dir", str(catalog_folder))
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOG_SETTINGS}")
        .getOrCreate()
    )
