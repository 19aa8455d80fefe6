"""The Spark sessions of a build agree on what SQL means (docs/spark.md): the build
process's session (lib/spark_session.py) and dbt's (profiles.yml targets spark and
spark_connect) set the same SQL settings, so a check's query reads a mart as the model
that wrote it; a Spark Connect build's dbt connects to the server. One local session
shows what the settings do."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import jinja2
import pytest
import yaml

from dagster_project.build.environment import SparkOptions
from dagster_project.build.errors import UsageError
from dagster_project.build.run import DEMO_LANDING, run_build
from dagster_project.defs.dbt import spark_dbt_environment
from dagster_project.defs.resources import BuildSettings, WorkWarehouse
from dagster_project.lib.lakehouse import (
    BUILD_FOLDER,
    DRIVER_MEMORY_VARIABLE,
    PARQUET_FILE,
    RAW,
    attach_tables,
    spark_master_problem,
    table_folder,
)
from dagster_project.lib.settings import SettingError
from dagster_project.lib.spark_session import LOCAL_RESOURCES, SQL_SETTINGS, spark_session

PROFILES = Path(__file__).parents[1] / "dbt_project" / "profiles.yml"


def spark_targets() -> dict:
    outputs = yaml.safe_load(PROFILES.read_text())["recurwise"]["outputs"]
    return {name: outputs[name]["server_side_parameters"] for name in ("spark", "spark_connect")}


def test_every_session_has_the_same_sql_settings():
    targets = spark_targets()
    assert targets["spark_connect"] == SQL_SETTINGS
    local = targets["spark"]
    assert {key: local[key] for key in SQL_SETTINGS} == SQL_SETTINGS
    assert {key: local[key] for key in LOCAL_RESOURCES} == LOCAL_RESOURCES
    # The local target adds its master, its heap and its catalog; a server has its own.
    assert set(local) - set(SQL_SETTINGS) - set(LOCAL_RESOURCES) == {
        "spark.master",
        "spark.driver.memory",
        "spark.sql.warehouse.dir",
        "spark.hadoop.javax.jdo.option.ConnectionURL",
        "spark.driver.extraJavaOptions",
    }


def dbt_driver_memory(environment: dict[str, str]) -> str:
    """dbt's local session heap: profiles.yml's value rendered as dbt renders it."""
    value = spark_targets()["spark"]["spark.driver.memory"]
    env_var = lambda name, default=None: environment.get(name, default)  # noqa: E731
    return jinja2.Template(value).render(env_var=env_var)


@pytest.mark.parametrize(("given", "heap"), [(None, "2g"), ("8g", "8g"), (" 16G ", "16g")])
def test_both_local_sessions_get_the_driver_memory_set(given, heap, tmp_path, monkeypatch):
    if given is None:
        monkeypatch.delenv(DRIVER_MEMORY_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(DRIVER_MEMORY_VARIABLE, given)
    lakehouse = lakehouse_with_raw(tmp_path)
    settings = spark_settings(lakehouse)
    assert settings.on_spark
    environment = spark_dbt_environment(settings, WorkWarehouse(settings=settings))
    assert environment[DRIVER_MEMORY_VARIABLE] == heap
    assert dbt_driver_memory(environment) == heap
    assert dbt_driver_memory({}) == "2g"


@pytest.mark.parametrize("memory", ["2", "2gb", "0g", "-1g", "lots", "2 g"])
def test_a_driver_memory_spark_cannot_read_is_refused_before_the_build_starts(
    memory, tmp_path, monkeypatch
):
    monkeypatch.setenv(DRIVER_MEMORY_VARIABLE, memory)
    with pytest.raises(UsageError, match="not a JVM memory size"):
        run_build(DEMO_LANDING, tmp_path / "lakehouse" / "warehouse.duckdb",
                  spark=SparkOptions(tmp_path / "lakehouse", "local[2]"))  # fmt: skip
    assert not (tmp_path / "lakehouse").exists()
    with pytest.raises(SettingError, match=DRIVER_MEMORY_VARIABLE):
        _ = spark_settings(tmp_path).on_spark
    # A Spark Connect server sizes its own JVM: the setting is not read.
    assert spark_settings(tmp_path, spark_master="sc://spark.example:15002").on_spark


def test_the_build_process_session_starts_its_jvm_with_that_heap(java, tmp_path):
    # A process of its own: a JVM's heap is fixed when it starts, and this one may have one.
    script = (
        "import sys; from pathlib import Path\n"
        "from dagster_project.lib.spark_session import spark_session\n"
        "session = spark_session(Path(sys.argv[1]))\n"
        "print(session.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory())\n"
        "session.stop()\n"
    )
    environment = {**os.environ, DRIVER_MEMORY_VARIABLE: "640m"}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=environment,
                          capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
    # Runtime.maxMemory() is -Xmx here (without the setting: 2 GiB).
    assert int(done.stdout.split()[-1]) == 640 * 2**20


def lakehouse_with_raw(tmp_path: Path) -> Path:
    # A raw table already exported, so the environment does not export again.
    (tmp_path / BUILD_FOLDER / RAW / "account_versions").mkdir(parents=True)
    (tmp_path / BUILD_FOLDER / RAW / "account_versions" / "data.parquet").write_bytes(b"")
    return tmp_path


def spark_settings(lakehouse: Path, **settings: str) -> BuildSettings:
    return BuildSettings(
        landing_dir=str(lakehouse / "landing"),
        warehouse_path=str(lakehouse / "warehouse.duckdb"),
        engine="spark",
        lakehouse_dir=str(lakehouse),
        **settings,
    )


def test_a_local_build_runs_dbt_on_its_own_session(tmp_path):
    lakehouse = lakehouse_with_raw(tmp_path)
    settings = spark_settings(lakehouse)
    environment = spark_dbt_environment(settings, WorkWarehouse(settings=settings))
    assert environment["RECURWISE_SPARK_MASTER"] == "local[2]"
    assert environment["RECURWISE_WORK_LAKEHOUSE"] == str((lakehouse / BUILD_FOLDER).resolve())
    assert environment["RECURWISE_LAKEHOUSE_TABLES"] == "raw.account_versions"
    assert "SPARK_REMOTE" not in environment


def test_a_spark_connect_build_sends_dbt_to_the_server(tmp_path):
    lakehouse = lakehouse_with_raw(tmp_path)
    settings = spark_settings(lakehouse, spark_master="sc://spark.example:15002")
    environment = spark_dbt_environment(settings, WorkWarehouse(settings=settings))
    assert environment["SPARK_REMOTE"] == "sc://spark.example:15002"


@pytest.mark.parametrize("master", ["local", "local[2]", "local[*]", "sc://spark.example:15002"])
def test_a_local_session_or_a_connect_server_can_run_a_build(master):
    assert spark_master_problem(master) is None


@pytest.mark.parametrize("master", ["yarn", "spark://host:7077", "local[0]", "sc://", ""])
def test_any_other_master_is_refused_before_the_build_starts(master, tmp_path):
    # From the command line: a usage error (one message, exit 1), nothing started.
    with pytest.raises(UsageError, match="neither local"):
        run_build(DEMO_LANDING, tmp_path / "lakehouse" / "warehouse.duckdb",
                  spark=SparkOptions(tmp_path / "lakehouse", master))  # fmt: skip
    assert not (tmp_path / "lakehouse").exists()
    # From the UI, the schedule or the sensor (RECURWISE_SPARK_MASTER): a setting error.
    with pytest.raises(SettingError, match="RECURWISE_SPARK_MASTER"):
        _ = spark_settings(tmp_path, spark_master=master).on_spark


def test_the_spark_engine_publishes_into_its_lakehouse_warehouse_only(tmp_path):
    # The UI, the schedule and the sensor read the paths from the environment separately.
    settings = spark_settings(tmp_path / "lakehouse")
    assert settings.on_spark
    elsewhere = settings.model_copy(update={"warehouse_path": str(tmp_path / "w.duckdb")})
    with pytest.raises(SettingError, match="RECURWISE_WAREHOUSE"):
        _ = elsewhere.on_spark
    with pytest.raises(SettingError, match="RECURWISE_LAKEHOUSE"):
        _ = settings.model_copy(update={"lakehouse_dir": ""}).on_spark


def test_a_local_session_walks_a_recursive_cte_to_its_end_and_writes_nothing_here(
    java, tmp_path, monkeypatch
):
    """Past Spark's default recursion limits (1M rows, 100 levels), which a 1M-account
    merge walk crosses; its catalog in the folder given, never spark-warehouse/ in the
    working directory."""
    here, catalog = tmp_path / "here", tmp_path / "lakehouse"
    here.mkdir()
    monkeypatch.chdir(here)
    folder = table_folder(catalog, "marts", "accounts")
    folder.mkdir(parents=True)
    duckdb.sql(f"copy (select 1 as id) to '{folder / PARQUET_FILE}' (format parquet)")
    session = spark_session(catalog)
    try:
        rows = session.sql(
            "with recursive walk as (select id, 0 as level from range(600000) "
            "union all select id, level + 1 from walk where level < 1) "
            "select count(*) from walk"
        ).first()[0]
        levels = session.sql(
            "with recursive walk as (select 0 as level "
            "union all select level + 1 from walk where level < 150) "
            "select max(level) from walk"
        ).first()[0]
        attach_tables(session, catalog, ["marts.accounts"])
        location = dict(session.sql("describe database marts").collect())["Location"]
        accounts = session.sql("select count(*) from marts.accounts").first()[0]
    finally:
        session.stop()

    assert (rows, levels, accounts) == (1_200_000, 150, 1)
    assert location == f"file:{catalog / 'marts'}"
    assert list(here.iterdir()) == []
