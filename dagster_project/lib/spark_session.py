"""The build process's Spark session on the Spark engine (SPEC 8, docs/spark.md).

One place holds the settings of a local PySpark session, so the subscription builder, the
checks and the tests run Spark the same way: a small shuffle, a bounded driver, dates in
UTC, Parquet tables. dbt_project/profiles.yml (target `spark`) spells out the same settings
for dbt-spark's `method: session`, which runs in dbt's own process.

A cluster: `spark_session("sc://host:15002")` connects through Spark Connect instead (the
cluster keeps its own settings). This session never opens the lakehouse's catalog (that is
dbt's, lib/lakehouse.py): it reads and writes tables by their folders.
"""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

from dagster_project.lib.lakehouse import LOCAL_MASTER, is_remote

# A 2-core machine: two local threads, two shuffle partitions (the default 200 costs
# seconds of task overhead on demo-sized data), a 2 GB driver.
LOCAL_SESSION_CONFIG = {
    "spark.driver.memory": "2g",
    "spark.sql.shuffle.partitions": "2",
    # Dates and timestamps mean the same on every machine (SPEC 2.1: never the machine's zone).
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.default": "parquet",
    # dbt-spark forces it off in its sessions; the same here, so SQL means the same in both.
    "spark.sql.ansi.enabled": "false",
    "spark.ui.enabled": "false",
    # Progress bars would garble the build's log and the CLI's output.
    "spark.ui.showConsoleProgress": "false",
}


def spark_session(master: str = LOCAL_MASTER) -> SparkSession:
    """A session on `master`: local (`local[N]`) with LOCAL_SESSION_CONFIG, or a Spark
    Connect server (`sc://host:port`).

    Local Python workers run the interpreter of this process, so they see the same polars
    and the same recurwise code as the driver.
    """
    if is_remote(master):
        return SparkSession.builder.remote(master).appName("recurwise").getOrCreate()
    # A local SparkContext starts its Python workers with PYSPARK_PYTHON (default `python3`,
    # which lacks this environment); spark.pyspark.python is read by spark-submit only.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("recurwise").master(master)
    for key, value in LOCAL_SESSION_CONFIG.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
