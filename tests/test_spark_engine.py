"""The Spark engine (SPEC 8, issue #18): `recurwise build --engine spark` of the demo
publishes every mart as Parquet under <lakehouse>/marts/<mart>/, row for row equal to the
DuckDB build's marts (EXCEPT ALL both ways, every column, money to the cent)."""

import json
import os
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pyspark
import pytest

from dagster_project.build.environment import SparkOptions
from dagster_project.build.run import DEMO_LANDING, lakehouse_warehouse, run_build
from dagster_project.lib.lakehouse import BUILD_FOLDER, MARTS

pytestmark = pytest.mark.slow

# build_info describes the build itself: when it ran is not the same on two builds.
BUILD_INFO_VOLATILE = {"built_at"}


@pytest.fixture(scope="module")
def spark_build(java, tmp_path_factory):
    lakehouse = tmp_path_factory.mktemp("lakehouse")
    summary = run_build(DEMO_LANDING, lakehouse_warehouse(lakehouse), spark=SparkOptions(lakehouse))
    return lakehouse, summary


def duckdb_marts(con) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'duck' "
            "and table_schema = 'marts' order by 1"
        ).fetchall()
    ]


def columns(con, relation: str) -> list[tuple[str, str]]:
    return [(name, kind) for name, kind, *_ in con.execute(f"describe {relation}").fetchall()]


def parquet_types(kinds: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Column types as Parquet keeps them: it has no JSON type, so Spark writes JSON text
    (build_info.settings) as a plain string, which DuckDB reads back as VARCHAR."""
    return [(name, "VARCHAR" if kind == "JSON" else kind) for name, kind in kinds]


def assert_marts_equal(duckdb_warehouse: Path, lakehouse: Path) -> None:
    """Every mart of the DuckDB build, published under <lakehouse>/marts/<mart>/: same
    columns and types, same rows (EXCEPT ALL both ways, every column)."""
    published = lakehouse / MARTS
    with duckdb.connect() as con:
        con.execute(f"attach '{duckdb_warehouse}' as duck (read_only)")
        marts = duckdb_marts(con)
        assert sorted(p.name for p in published.iterdir() if p.is_dir()) == marts
        compared = 0
        for mart in marts:
            on_spark = f"read_parquet('{published / mart}/*.parquet')"
            on_duckdb = f"duck.marts.{mart}"
            # Same names in the same order, and the same types (Spark's decimals and
            # integers read back as DuckDB's).
            expected = parquet_types(columns(con, on_duckdb))
            assert columns(con, f"(from {on_spark})") == expected, mart
            keep = ", ".join(
                f'"{name}"'
                for name, _ in columns(con, on_duckdb)
                if mart != "build_info" or name not in BUILD_INFO_VOLATILE
            )
            [(only_spark, only_duckdb, rows)] = con.execute(
                f"select (select count(*) from (select {keep} from {on_spark} except all "
                f"select {keep} from {on_duckdb})), (select count(*) from (select {keep} "
                f"from {on_duckdb} except all select {keep} from {on_spark})), "
                f"(select count(*) from {on_duckdb})"
            ).fetchall()
            assert (mart, only_spark, only_duckdb) == (mart, 0, 0)
            compared += rows
        # The demo is not empty: the comparison compared something.
        assert compared > 10_000


def test_every_mart_on_spark_equals_the_duckdb_build(demo_build, spark_build):
    lakehouse, _ = spark_build
    assert_marts_equal(demo_build.warehouse, lakehouse)


def test_money_is_exact_to_the_cent_on_both_engines(demo_build, spark_build):
    lakehouse, _ = spark_build
    with duckdb.connect() as con:
        con.execute(f"attach '{demo_build.warehouse}' as duck (read_only)")
        [(spark_mrr, duckdb_mrr)] = con.execute(
            f"select (select sum(mrr) from read_parquet('{lakehouse}/marts/fct_mrr_monthly/"
            "*.parquet')), (select sum(mrr) from duck.marts.fct_mrr_monthly)"
        ).fetchall()
    assert spark_mrr == duckdb_mrr > 0
    # A decimal to the cent on both, never a float.
    assert isinstance(spark_mrr, Decimal) and spark_mrr.as_tuple().exponent == -2


def test_the_lakehouse_warehouse_file_queries_the_spark_marts(spark_build):
    lakehouse, summary = spark_build
    assert summary.warehouse == lakehouse_warehouse(lakehouse)
    # The work lakehouse is gone; the published marts and the file with raw and views stay.
    assert not (lakehouse / BUILD_FOLDER).exists()
    with duckdb.connect(str(summary.warehouse), read_only=True) as con:
        views = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' and table_type = 'VIEW'"
            ).fetchall()
        }
        assert views == {p.name for p in (lakehouse / MARTS).iterdir()}
        [(settings,)] = con.execute("select settings from marts.build_info").fetchall()
        assert json.loads(settings)["corporate_currency"] == "USD"
        # The ingest's raw versions are kept for the next day's build.
        assert con.execute("select count(*) from raw.snapshots").fetchone()[0] > 0
    assert summary.report is not None and summary.report.is_file()


@pytest.fixture(scope="module")
def spark_connect_server(java, tmp_path_factory):
    """A Spark Connect server on this machine, as a cluster would offer one: pyspark's own
    start-connect-server.sh, a free port, its logs and catalog in a temporary folder."""
    folder = tmp_path_factory.mktemp("spark-connect")
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        port = probe.getsockname()[1]
    home = Path(pyspark.__file__).parent
    environment = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOG_DIR": str(folder / "logs"),
        "SPARK_PID_DIR": str(folder),
        # The server's Python workers (the builder's grouped map) run this environment.
        "PYSPARK_PYTHON": sys.executable,
    }
    settings = {
        "spark.connect.grpc.binding.port": port,
        "spark.sql.warehouse.dir": folder / "warehouse",
        "spark.sql.shuffle.partitions": 2,
        "spark.driver.memory": "2g",
        "spark.ui.enabled": "false",
    }
    start = [str(home / "sbin" / "start-connect-server.sh"), "--master", "local[2]"]
    for key, value in settings.items():
        start += ["--conf", f"{key}={value}"]
    subprocess.run(start, env=environment, cwd=folder, check=True, capture_output=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                socket.create_connection(("localhost", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    logs = "\n".join(p.read_text() for p in (folder / "logs").glob("*.out"))
                    pytest.fail(f"the Spark Connect server did not listen on {port}:\n{logs}")
                time.sleep(1)
        yield f"sc://localhost:{port}"
    finally:
        stop = home / "sbin" / "stop-connect-server.sh"
        subprocess.run([str(stop)], env=environment, cwd=folder, capture_output=True)


def test_a_build_through_spark_connect_equals_the_duckdb_build(
    demo_build, spark_connect_server, tmp_path
):
    # dbt (target spark_connect) and the build process's session (the builder, the checks)
    # both run on the server, sharing its catalog; the lakehouse is a folder both see.
    lakehouse = tmp_path / "lakehouse"
    run_build(
        DEMO_LANDING,
        lakehouse_warehouse(lakehouse),
        spark=SparkOptions(lakehouse, spark_connect_server),
    )
    assert_marts_equal(demo_build.warehouse, lakehouse)
