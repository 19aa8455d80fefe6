"""The subscription builder on Spark: the same pure fold, as a grouped map over accounts.

SPEC 4.8's fold only ever looks at one master account's sources, so accounts can be built
on different executors. `build_subscriptions_on_spark` sends every master account, with
all its sources and their lines, to exactly one Python call of a cogrouped `applyInArrow`,
which runs `lib/subscriptions.build_subscriptions` (unchanged) on that share and returns
its four outputs as one tagged Arrow table. Groups are buckets of the account's hash, not
single accounts: the fold is vectorised across accounts, so one call per bucket of many
accounts costs about what one account does, while one call per account would pay polars'
fixed cost hundreds of thousands of times. An account never spans two buckets, so the
rows are the polars build's rows; only their order is Spark's.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import polars as pl
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import to_arrow_schema

from dagster_project.lib.subscriptions import (
    ERROR_COLUMNS,
    ITEM_COLUMNS,
    SOURCES_BUILT_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    BuildResult,
    build_subscriptions,
)

# Which BuildResult field a row of the tagged output belongs to, and its columns.
OUTPUT_COLUMNS = {
    "subscriptions": SUBSCRIPTION_COLUMNS,
    "items": ITEM_COLUMNS,
    "errors": ERROR_COLUMNS,
    "sources_built": SOURCES_BUILT_COLUMNS,
}
OUTPUT_TAG = "build_output"
ACCOUNT_BUCKET = "account_bucket"
DATE_COLUMNS = frozenset({"start_date", "end_date"})
# Items keep the quantity and prices of their source line, in the line's own type.
LINE_VALUE_COLUMNS = ("quantity", "net_unit_price", "mrr")


@dataclass(frozen=True)
class SparkBuildResult:
    """The builder's four outputs as Spark DataFrames, columns as in BuildResult."""

    subscriptions: DataFrame
    items: DataFrame
    errors: DataFrame
    sources_built: DataFrame


def build_subscriptions_on_spark(
    sources: DataFrame, lines: DataFrame, as_of: date, account_buckets: int | None = None
) -> SparkBuildResult:
    """Build subscriptions on Spark, one grouped-map call per bucket of master accounts.

    `sources` and `lines` have the columns `build_subscriptions` takes (SPEC 4.8); lines
    of opportunities that are not sources are left out, as the polars build does.
    `account_buckets` (default: the session's shuffle partitions) is how many groups the
    accounts are hashed into. The tagged result is cached, so the fold runs once for the
    four outputs; call `unpersist_build` when they are written.
    """
    spark = sources.sparkSession
    buckets = account_buckets or int(spark.conf.get("spark.sql.shuffle.partitions"))
    # Sources without an account fail before the fold, so any bucket holds them.
    bucket = F.pmod(F.xxhash64(F.coalesce("master_account_id", F.lit(""))), F.lit(buckets))
    bucketed_sources = sources.withColumn(ACCOUNT_BUCKET, bucket)
    # Derived from `sources` itself, not from bucketed_sources: the cogroup must not see
    # one bucket column on both sides (Spark rejects that as an ambiguous self-join).
    source_buckets = sources.select("opportunity_id", bucket.alias(ACCOUNT_BUCKET)).distinct()
    bucketed_lines = lines.join(source_buckets, on="opportunity_id", how="inner")

    output_schema = _output_schema(lines.schema)
    arrow_schema = to_arrow_schema(output_schema)

    def fold_accounts(source_table: pa.Table, line_table: pa.Table) -> pa.Table:
        result = build_subscriptions(
            pl.from_arrow(source_table.drop_columns([ACCOUNT_BUCKET])),
            pl.from_arrow(line_table.drop_columns([ACCOUNT_BUCKET])),
            as_of,
        )
        return _tagged_arrow(result, arrow_schema)

    tagged = (
        bucketed_sources.groupBy(ACCOUNT_BUCKET)
        .cogroup(bucketed_lines.groupBy(ACCOUNT_BUCKET))
        .applyInArrow(fold_accounts, schema=output_schema)
        .persist()
    )
    return SparkBuildResult(
        **{
            name: tagged.filter(F.col(OUTPUT_TAG) == name).select(*columns)
            for name, columns in OUTPUT_COLUMNS.items()
        }
    )


def unpersist_build(result: SparkBuildResult) -> None:
    """Release the cached fold output behind a SparkBuildResult."""
    for output in fields(result):
        getattr(result, output.name).unpersist()


def _output_schema(line_schema: T.StructType) -> T.StructType:
    """One row type for all four outputs: the tag, then every column any of them has."""
    line_types = {field.name: field.dataType for field in line_schema.fields}
    columns = dict.fromkeys(name for cols in OUTPUT_COLUMNS.values() for name in cols)
    output_fields = [T.StructField(OUTPUT_TAG, T.StringType(), nullable=False)]
    for name in columns:
        if name in DATE_COLUMNS:
            data_type = T.DateType()
        elif name in LINE_VALUE_COLUMNS:
            data_type = line_types[name]
        elif name == "is_recurring":
            data_type = T.BooleanType()
        else:
            data_type = T.StringType()
        output_fields.append(T.StructField(name, data_type, nullable=True))
    return T.StructType(output_fields)


def _tagged_arrow(result: BuildResult, arrow_schema: pa.Schema) -> pa.Table:
    """The four outputs stacked, each row tagged with its output, in the output row type."""
    frames = [
        getattr(result, name).with_columns(pl.lit(name).alias(OUTPUT_TAG))
        for name in OUTPUT_COLUMNS
    ]
    stacked = pl.concat(frames, how="diagonal_relaxed").select(arrow_schema.names)
    return stacked.to_arrow().cast(arrow_schema)
