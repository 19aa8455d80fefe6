"""Staging on Spark: the DuckDB ingest's raw tables, exported to a lakehouse, give the same
staging rows through dbt-spark as through dbt-duckdb (SPEC 8, issue #18)."""

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from dagster_project.dbt_project import DBT_PROJECT_DIR
from dagster_project.lib.spark_raw import export_raw_tables, register_lakehouse_tables
from dagster_project.lib.spark_session import local_spark_session


@pytest.fixture(scope="module")
def lakehouse(demo_build, tmp_path_factory):
    """The demo's raw tables as Parquet, the way a Spark build starts."""
    folder = tmp_path_factory.mktemp("lakehouse")
    export_raw_tables(demo_build.warehouse, folder)
    return folder


@pytest.fixture(scope="module")
def spark(java, lakehouse):
    """One local Spark session with the lakehouse's catalog; dbt-spark's `method: session`
    runs in it too (it takes the session this process already has)."""
    session = local_spark_session(lakehouse)
    register_lakehouse_tables(session, lakehouse)
    yield session
    session.stop()


def test_staging_on_spark_equals_staging_on_duckdb(
    demo_build, lakehouse, spark, tmp_path, monkeypatch
):
    monkeypatch.setenv("RECURWISE_LAKEHOUSE", str(lakehouse))
    # Its own target folder: the project's target/manifest.json stays the DuckDB one.
    result = dbtRunner().invoke(
        [
            "run",
            "--target",
            "spark",
            "--select",
            # The CRM staging models; staging/subscription_build reads the builder's output.
            "staging.crm",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ]
    )
    assert result.success, result.exception

    with duckdb.connect() as con:
        con.execute(f"attach '{demo_build.warehouse}' as duck (read_only)")
        models = sorted(run.node.name for run in result.result)
        on_duckdb = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_catalog = "
                "'duck' and table_schema = 'staging' and table_name like 'stg_crm\\_\\_%' "
                "escape '\\' order by 1"
            ).fetchall()
        ]
        assert models == on_duckdb
        for model in models:
            on_spark = spark.table(f"staging.{model}").toArrow()
            duck_columns = [
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns where table_catalog = "
                    "'duck' and table_schema = 'staging' and table_name = ? "
                    "order by ordinal_position",
                    [model],
                ).fetchall()
            ]
            assert on_spark.column_names == duck_columns, model
            con.register("on_spark", on_spark)
            [(only_spark, only_duckdb, rows)] = con.execute(
                f"select (select count(*) from (from on_spark except all "
                f"from duck.staging.{model})), (select count(*) from (from duck.staging.{model} "
                f"except all from on_spark)), (select count(*) from on_spark)"
            ).fetchall()
            con.unregister("on_spark")
            assert (only_spark, only_duckdb) == (0, 0), model
            assert rows > 0, model
