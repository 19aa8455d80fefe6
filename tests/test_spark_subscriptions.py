"""The subscription builder on Spark gives the polars build's rows (SPEC 8, issue #18)."""

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dagster_project.defs.subscriptions import BUILD_RESULT_FIELDS, read_builder_input
from dagster_project.lib.build_filter import DEFAULT_BUILD_FILTER
from dagster_project.lib.spark_session import spark_session
from dagster_project.lib.spark_subscriptions import build_subscriptions_on_spark, unpersist_build


@pytest.fixture(scope="module")
def spark(java, tmp_path_factory):
    """One local Spark session for this module (a JVM start costs 10-15 s)."""
    session = spark_session(tmp_path_factory.mktemp("subscriptions_catalog"))
    yield session
    session.stop()


def rows_in_order(frame: pl.DataFrame) -> pl.DataFrame:
    """Spark returns rows in its own order: compare them sorted by every column."""
    return frame.sort(frame.columns, nulls_last=True)


def test_spark_build_equals_the_polars_build_of_the_demo(demo_build, spark):
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as con:
        sources, lines, as_of = read_builder_input(con, DEFAULT_BUILD_FILTER)
        polars_build = {
            output: con.sql(f"from intermediate.{table}").pl()
            for table, output in BUILD_RESULT_FIELDS.items()
        }

    result = build_subscriptions_on_spark(
        spark.createDataFrame(sources.to_arrow()), spark.createDataFrame(lines.to_arrow()), as_of
    )
    try:
        for output, expected in polars_build.items():
            built = pl.from_arrow(getattr(result, output).toArrow())
            assert built.height == expected.height > 0, output
            assert_frame_equal(rows_in_order(built), rows_in_order(expected))
    finally:
        unpersist_build(result)
