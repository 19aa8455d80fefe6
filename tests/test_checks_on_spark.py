"""The mart checks give the same frames and verdicts on Spark as on DuckDB (SPEC 8, #18).

The tables the mart rules read are exported from the demo warehouse as Parquet and named
in one local Spark session; every mart rule then runs on both engines with the same SQL.
"""

from pathlib import Path

import duckdb
import polars as pl
import pytest

from dagster_project.lib.expectations import mart_rules, rules, run_rule, run_rule_on_spark
from dagster_project.lib.lakehouse import PARQUET_FILE, attach_tables, table_folder
from dagster_project.lib.spark_session import spark_session

MART_RULES = mart_rules()
MRR_MONTHLY = "marts.fct_mrr_monthly"


def read_tables() -> list[str]:
    """schema.table of every table a mart rule checks or reads (marts and staging)."""
    reads = {".".join(table) for rule in MART_RULES for table in rule.reads}
    return sorted({rule.table for rule in MART_RULES} | reads)


def export_table(con: duckdb.DuckDBPyConnection, table: str, root: Path, select: str = "*"):
    """`table` of `con` as Parquet at `<root>/<schema>/<table>/` (lib/lakehouse.py layout)."""
    folder = table_folder(root, *table.split("."))
    folder.mkdir(parents=True)
    target = folder / PARQUET_FILE
    con.execute(f"copy (select {select} from {table}) to '{target}' (format parquet)")


@pytest.fixture(scope="module")
def demo_con(demo_build):
    con = duckdb.connect(str(demo_build.warehouse), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def lake(demo_con, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("checks_lake")
    for table in read_tables():
        export_table(demo_con, table, root)
    return root


@pytest.fixture(scope="module")
def spark(java, lake):
    """One local Spark session for this module (a JVM start costs 15-40 s), with the
    exported tables named in its in-memory catalog."""
    session = spark_session(lake)
    attach_tables(session, lake, read_tables())
    yield session
    session.stop()


def judged(run, target, rule, monkeypatch) -> tuple[pl.DataFrame, object]:
    """The frame a rule's run validated and its Outcome: one query per engine."""
    frames = []
    validate = rules.validate_frame

    def keep_frame(frame, *args, **kwargs):
        frames.append(frame)
        return validate(frame, *args, **kwargs)

    monkeypatch.setattr(rules, "validate_frame", keep_frame)
    outcome = run(target, rule)
    monkeypatch.setattr(rules, "validate_frame", validate)
    (frame,) = frames
    return frame, outcome


@pytest.mark.parametrize("rule", MART_RULES, ids=lambda r: f"{r.table}.{r.name}")
def test_a_mart_rule_gives_the_duckdb_frame_and_verdict_on_spark(
    rule, demo_con, spark, monkeypatch
):
    on_duckdb, duckdb_outcome = judged(run_rule, demo_con, rule, monkeypatch)
    on_spark, spark_outcome = judged(run_rule_on_spark, spark, rule, monkeypatch)

    assert on_spark.columns == on_duckdb.columns
    assert on_spark.dtypes == on_duckdb.dtypes
    # The same rows in the same order: the worst rows first, ties broken in the SQL.
    assert on_spark.rows() == on_duckdb.rows()
    assert spark_outcome.success == duckdb_outcome.success
    assert spark_outcome.summary == duckdb_outcome.summary


def test_a_wrong_mrr_fails_on_both_engines_with_the_same_row(
    demo_con, lake, spark, tmp_path, monkeypatch
):
    """One customer-month's MRR off by 10 in a copy of fct_mrr_monthly:
    mrr_changes_add_up_to_mrr fails on both engines, naming that row first."""
    rule = next(r for r in MART_RULES if r.name == "mrr_changes_add_up_to_mrr")
    account, month = demo_con.execute(
        f"select master_account_id, month from {MRR_MONTHLY} where mrr > 0 "
        "order by master_account_id, month limit 1"
    ).fetchone()
    columns = [name for (name, *_) in demo_con.execute(f"describe {MRR_MONTHLY}").fetchall()]
    wrong_row = f"master_account_id = '{account}' and month = date '{month}'"
    corrupted = ", ".join(
        f"case when {wrong_row} then mrr + 10 else mrr end as mrr" if c == "mrr" else c
        for c in columns
    )
    export_table(demo_con, MRR_MONTHLY, tmp_path, corrupted)

    with duckdb.connect() as con:
        files = table_folder(tmp_path, *MRR_MONTHLY.split(".")) / PARQUET_FILE
        con.execute("create schema marts")
        con.execute(f"create view {MRR_MONTHLY} as select * from read_parquet('{files}')")
        on_duckdb, duckdb_outcome = judged(run_rule, con, rule, monkeypatch)
    attach_tables(spark, tmp_path, [MRR_MONTHLY])
    try:
        on_spark, spark_outcome = judged(run_rule_on_spark, spark, rule, monkeypatch)
    finally:
        attach_tables(spark, lake, [MRR_MONTHLY])

    assert not duckdb_outcome.success and not spark_outcome.success
    assert on_duckdb.row(0)[:2] == (account, month) and on_duckdb.row(0)[-1] == -10.0
    assert on_duckdb.filter(pl.col("difference") != 0).height == 1
    assert on_spark.rows() == on_duckdb.rows()
    assert spark_outcome.summary == duckdb_outcome.summary
