"""The dbt semantic layer (SPEC 8 "Metrics"): `mf query` on the published demo warehouse
gives the marts' own figures.

MetricFlow runs as docs/metrics.md says: the `metrics` target of profiles.yml attaches the
warehouse read-only, `dbt parse` writes the semantic manifest, `mf query` answers. The dbt
project is copied first, so the parse leaves the repository's dbt_project/target alone.
"""

import csv
import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.dbt_project import DBT_PROJECT_DIR

BIN = Path(sys.executable).parent
CENT = 0.005


class SemanticLayer:
    def __init__(self, project: Path, warehouse: Path, out: Path) -> None:
        self.project, self.out = project, out
        self.env = {
            **os.environ,
            "RECURWISE_DBT_TARGET": "metrics",
            "RECURWISE_WAREHOUSE": str(warehouse),
        }
        self.queries = 0

    def run(self, *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            args, cwd=self.project, env=self.env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result

    def query(self, metrics: str, group_by: str) -> list[dict[str, object]]:
        """Rows of `mf query --metrics METRICS --group-by GROUP_BY` in group-by order, typed:
        times as dates, metric values as floats (None when empty)."""
        self.queries += 1
        out = self.out / f"query{self.queries}.csv"
        self.run(
            str(BIN / "mf"), "query", "--metrics", metrics, "--group-by", group_by,
            "--csv", str(out), "--quiet",
        )  # fmt: skip
        with out.open(newline="") as f:
            rows = list(csv.DictReader(f))
        assert rows, f"mf query --metrics {metrics} --group-by {group_by} returned no rows"
        typed = [{key: _typed(key, value) for key, value in row.items()} for row in rows]
        return sorted(typed, key=lambda row: [row[key] for key in group_by.split(",")])


def _typed(key: str, value: str) -> object:
    if key.startswith("metric_time__"):
        return datetime.fromisoformat(value).date()
    if "__" in key:
        return value
    return float(value) if value != "" else None


@pytest.fixture(scope="module")
def semantic(demo_build, tmp_path_factory) -> SemanticLayer:
    root = tmp_path_factory.mktemp("semantic")
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    (root / "seeds").symlink_to(DBT_PROJECT_DIR.parent / "seeds")
    layer = SemanticLayer(project, demo_build.warehouse, root)
    layer.run(str(BIN / "dbt"), "parse", "--quiet", "--profiles-dir", str(project))
    return layer


def _near(actual: object, expected: Decimal | float | None, tolerance: float = CENT) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    return abs(float(actual) - float(expected)) <= tolerance


def test_mrr_arr_and_net_new_mrr_by_month_equal_the_marts(semantic, demo_db):
    # A reader holds the warehouse open meanwhile: mf attaches it read-only, never blocks.
    rows = semantic.query("mrr,arr,net_new_mrr", "metric_time__month")
    expected = {
        month: (mrr, arr, net_new)
        for month, mrr, arr, net_new in demo_db.execute(
            "select month, sum(mrr), sum(arr), sum(mrr_change) from marts.fct_mrr_monthly "
            "group by month"
        ).fetchall()
    }
    # fct_mrr_movements' month figures are an independent summary of the same months.
    movements = dict(
        demo_db.execute(
            "select month, any_value(month_net_new_mrr) from marts.fct_mrr_movements group by 1"
        ).fetchall()
    )
    assert [row["metric_time__month"] for row in rows] == sorted(expected)
    for row in rows:
        mrr, arr, net_new = expected[row["metric_time__month"]]
        assert _near(row["mrr"], mrr) and _near(row["arr"], arr), row
        assert _near(row["net_new_mrr"], net_new), row
        assert _near(row["net_new_mrr"], movements[row["metric_time__month"]]), row
    assert max(row["mrr"] for row in rows) > 100_000


def test_mrr_by_quarter_is_the_quarters_last_month_not_a_sum(semantic, demo_db):
    rows = semantic.query("mrr", "metric_time__quarter")
    last_month = dict(
        demo_db.execute(
            """
            select date_trunc('quarter', month)::date, arg_max(total, month)
            from (select month, sum(mrr) as total from marts.fct_mrr_monthly group by month)
            group by 1
            """
        ).fetchall()
    )
    assert {row["metric_time__quarter"] for row in rows} == set(last_month)
    for row in rows:
        assert _near(row["mrr"], last_month[row["metric_time__quarter"]]), row


def test_retention_by_month_equals_fct_mrr_movements(semantic, demo_db):
    rows = semantic.query("nrr,grr,logo_retention", "metric_time__month")
    expected = {
        month: figures
        for month, *figures in demo_db.execute(
            "select month, any_value(month_net_revenue_retention), "
            "any_value(month_gross_revenue_retention), any_value(month_logo_retention) "
            "from marts.fct_mrr_movements group by month"
        ).fetchall()
    }
    assert {row["metric_time__month"] for row in rows} == set(expected)
    compared = 0
    for row in rows:
        nrr, grr, logos = expected[row["metric_time__month"]]
        # The mart rounds to 4 decimals; a month nobody started with MRR has none.
        for metric, mart in (("nrr", nrr), ("grr", grr), ("logo_retention", logos)):
            assert _near(row[metric], mart, 0.00005), (metric, row, mart)
        compared += nrr is not None
    assert compared >= 24
    assert any(row["nrr"] > row["grr"] for row in rows if row["nrr"] is not None)


def test_ttm_retention_by_month_equals_fct_retention_ttm(semantic, demo_db):
    rows = semantic.query("ttm_nrr,ttm_grr,ttm_logo_retention", "metric_time__month")
    expected = {
        month: figures
        for month, *figures in demo_db.execute(
            "select month, nrr, grr, logo_retention from marts.fct_retention_ttm"
        ).fetchall()
    }
    assert {row["metric_time__month"] for row in rows} == set(expected)
    assert len(rows) == 21  # March 2025 to November 2026
    for row in rows:
        nrr, grr, logos = expected[row["metric_time__month"]]
        # The mart rounds to 4 decimals.
        for metric, mart in (("ttm_nrr", nrr), ("ttm_grr", grr), ("ttm_logo_retention", logos)):
            assert _near(row[metric], mart, 0.00005), (metric, row, mart)
    assert any(row["ttm_nrr"] > row["ttm_grr"] for row in rows)


def test_pipeline_by_close_month_equals_the_open_opportunities(semantic, demo_db):
    metrics = "pipeline_mrr,weighted_pipeline_mrr,pipeline_amount,weighted_pipeline_amount"
    rows = semantic.query(metrics, "metric_time__month")
    expected = {
        month: figures
        for month, *figures in demo_db.execute(
            """
            select date_trunc('month', close_date)::date,
                   sum(mrr) filter (where not is_closed),
                   sum(mrr * probability / 100) filter (where not is_closed),
                   sum(amount) filter (where not is_closed),
                   sum(amount * probability / 100) filter (where not is_closed)
            from marts.fct_opportunities group by 1
            """
        ).fetchall()
    }
    assert {row["metric_time__month"] for row in rows} == set(expected)
    for row in rows:
        for name, mart in zip(metrics.split(","), expected[row["metric_time__month"]], strict=True):
            assert _near(row[name], mart or 0), (name, row, mart)
    assert sum(row["pipeline_amount"] for row in rows) > 1_000_000
    assert all(row["weighted_pipeline_mrr"] <= row["pipeline_mrr"] + CENT for row in rows)


def test_renewals_due_by_quarter_and_source_equal_the_renewal_pipeline(semantic, demo_db):
    rows = semantic.query(
        "renewals_due,renewals_due_arr", "metric_time__quarter,renewal__source_type"
    )
    expected = {
        (quarter, source): (count, arr)
        for quarter, source, count, arr in demo_db.execute(
            "select date_trunc('quarter', end_date)::date, source_type, count(*), sum(arr) "
            "from marts.fct_renewal_pipeline group by all"
        ).fetchall()
    }
    read = {(row["metric_time__quarter"], row["renewal__source_type"]): row for row in rows}
    assert set(read) == set(expected)
    for key, (count, arr) in expected.items():
        assert read[key]["renewals_due"] == count
        assert _near(read[key]["renewals_due_arr"], arr), key
    assert date(2000, 1, 1) < min(quarter for quarter, _ in expected)


def test_the_time_spine_is_published(demo_build):
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as con:
        days, first, last = con.execute(
            "select count(*), min(date_day), max(date_day) from semantic.metricflow_time_spine"
        ).fetchone()
    assert (first, last) == (date(2000, 1, 1), date(2049, 12, 31))
    assert days == (last - first).days + 1
