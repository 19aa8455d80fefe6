"""The local Spark session of the Spark engine (SPEC 8, docs/spark.md).

One place holds the settings of a local PySpark session, so the subscription builder, the
raw export and the tests run Spark the same way: a small shuffle, a bounded driver, dates
in UTC, Parquet tables. dbt_project/profiles.yml (target `spark`) spells out the same
settings for dbt-spark's `method: session`. A cluster (Spark Connect or thrift) replaces
this module by a setting.

A lakehouse folder holds everything a Spark build keeps: one folder per schema
(`raw/`, `staging/`, `intermediate/`, `marts/`), each table a folder of Parquet files
inside it (`marts/<mart>/`, SPEC 8), and the catalog that names them (`_metastore/`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

# A 2-core machine shared with other work: two local threads, two shuffle partitions (the
# default 200 costs seconds of task overhead on demo-sized data), a 2 GB driver.
LOCAL_SESSION_CONFIG = {
    "spark.master": "local[2]",
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
METASTORE_FOLDER = "_metastore"


def lakehouse_config(lakehouse: Path) -> dict[str, str]:
    """Session settings that keep tables and their catalog inside the lakehouse folder."""
    root = Path(lakehouse).resolve()
    return {
        "spark.sql.warehouse.dir": str(root),
        # The catalog (an embedded Derby database) outlives the session, so the dbt run
        # finds the raw tables the export registered; never the current directory.
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={root / METASTORE_FOLDER / 'db'};create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={root / METASTORE_FOLDER}",
    }


def local_spark_session(lakehouse: Path | None = None) -> SparkSession:
    """The local Spark session; with `lakehouse`, its tables and catalog live there.

    Python workers run the interpreter of this process, so they see the same polars and
    the same recurwise code as the driver.
    """
    # A local SparkContext starts its Python workers with PYSPARK_PYTHON (default `python3`,
    # which lacks this environment); spark.pyspark.python is read by spark-submit only.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("recurwise")
    settings = dict(LOCAL_SESSION_CONFIG)
    if lakehouse is not None:
        settings.update(lakehouse_config(lakehouse))
        builder = builder.enableHiveSupport()
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if lakehouse is not None:
        # A JVM started earlier in this process (a session without a lakehouse) never read
        # extraJavaOptions; Derby reads the property when it first boots, which is later.
        home = str(Path(lakehouse).resolve() / METASTORE_FOLDER)
        session.sparkContext._jvm.java.lang.System.setProperty("derby.system.home", home)
    return session
