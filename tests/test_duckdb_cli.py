"""The published warehouse opens in the DuckDB 1.x tools analysts have (SPEC 6): the DuckDB
CLI 1.5.6 from PyPI (package duckdb-cli) reads every mart, the same rows as DuckDB 2.0
reads, the comments of every mart and column, and runs the ready queries of docs/queries.

The CLI is installed into .tools/duckdb-cli with the project's uv on first use. Where that
is not possible (no registry) the tests skip saying so, unless RECURWISE_REQUIRE_DUCKDB_CLI=1
(.ci/run sets it): then they fail.
"""

import csv
import io
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
QUERIES = sorted((REPO_ROOT / "docs" / "queries").glob("*.sql"))
CLI_VERSION = "1.5.6"
CLI_HOME = REPO_ROOT / ".tools" / "duckdb-cli"
UV = REPO_ROOT / ".tools" / "bin" / "uv"


def _unavailable(reason: str):
    if os.environ.get("RECURWISE_REQUIRE_DUCKDB_CLI") == "1":
        pytest.fail(f"RECURWISE_REQUIRE_DUCKDB_CLI=1 but {reason}")
    pytest.skip(f"{reason}; these tests need duckdb-cli=={CLI_VERSION} from PyPI")


def _version(cli: Path) -> str:
    result = subprocess.run([str(cli), "-version"], capture_output=True, text=True, timeout=60)
    return result.stdout.strip()


@pytest.fixture(scope="session")
def duckdb_cli() -> Path:
    """The `duckdb` executable of duckdb-cli 1.5.6, installed on first use."""
    cli = CLI_HOME / "bin" / "duckdb"
    if cli.is_file() and _version(cli).startswith(f"v{CLI_VERSION} "):
        return cli
    if not UV.is_file():
        _unavailable(f"{UV} is missing (run make demo first)")
    package = f"duckdb-cli=={CLI_VERSION}"
    steps = [
        [str(UV), "venv", "--quiet", "--clear", "--python", "python3.11", str(CLI_HOME)],
        [str(UV), "pip", "install", "--quiet", "--python", str(CLI_HOME), package],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            _unavailable(f"installing duckdb-cli failed: {result.stderr.strip()[-500:]}")
    assert _version(cli).startswith(f"v{CLI_VERSION} "), _version(cli)
    return cli


def run_cli(cli: Path, warehouse: Path, sql: str) -> list[list[str]]:
    """Rows (header first) of `sql` run by the 1.x CLI on `warehouse`, opened read-only."""
    result = subprocess.run(
        [str(cli), "-readonly", "-bail", "-csv", str(warehouse)],
        input=sql,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and not result.stderr, result.stderr
    return list(csv.reader(io.StringIO(result.stdout)))


def test_the_cli_is_duckdb_1x_and_refuses_a_2x_file(duckdb_cli, tmp_path):
    """The check is real: a file in DuckDB 2.0's default storage is what 1.5.6 cannot open."""
    latest = tmp_path / "latest.duckdb"
    with duckdb.connect(str(latest)) as con:
        con.execute("create table t as select 1 as x")
    result = subprocess.run(
        [str(duckdb_cli), "-readonly", str(latest), "-c", "select 1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "version number" in result.stderr


def test_every_mart_reads_the_same_in_duckdb_1x(duckdb_cli, demo_build, tmp_path):
    """The 1.x CLI writes every mart to Parquet; DuckDB 2.0 finds the same rows (both ways)."""
    marts = [name for name, _ in demo_build.marts]
    assert len(marts) >= 20
    copies = "\n".join(
        f"copy (select * from marts.\"{mart}\") to '{tmp_path / mart}.parquet' (format parquet);"
        for mart in marts
    )
    run_cli(duckdb_cli, demo_build.warehouse, copies)
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as con:
        for mart, rows in demo_build.marts:
            read = f"read_parquet('{tmp_path / mart}.parquet')"
            assert con.execute(f"select count(*) from {read}").fetchone()[0] == rows, mart
            for a, b in ((f'marts."{mart}"', read), (read, f'marts."{mart}"')):
                extra = con.execute(f"select count(*) from (from {a} except all from {b})")
                assert extra.fetchone()[0] == 0, f"{mart}: {a} has rows {b} has not"


def test_the_cli_reads_every_comment_and_type(duckdb_cli, demo_build):
    sql = (
        "select table_name, column_name, data_type, comment from duckdb_columns() "
        "where schema_name = 'marts' order by all"
    )
    tables_sql = (
        "select table_name, comment from duckdb_tables() where schema_name = 'marts' order by all"
    )
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as con:
        columns = [[str(v) for v in row] for row in con.execute(sql).fetchall()]
        tables = [[str(v) for v in row] for row in con.execute(tables_sql).fetchall()]
    assert len(columns) > 300 and all(row[3] not in ("", "None") for row in columns)
    assert run_cli(duckdb_cli, demo_build.warehouse, sql + ";")[1:] == columns
    assert run_cli(duckdb_cli, demo_build.warehouse, tables_sql + ";")[1:] == tables


@pytest.mark.parametrize("query", QUERIES, ids=lambda path: path.stem)
def test_the_ready_queries_run_in_duckdb_1x(duckdb_cli, demo_build, query):
    sql = query.read_text()
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as con:
        expected = con.execute(sql).fetchall()
    read = run_cli(duckdb_cli, demo_build.warehouse, sql)
    assert len(read) - 1 == len(expected)
    # Same first column, row by row: the same answer, not just as many rows.
    assert [row[0] for row in read[1:]] == [str(row[0]) for row in expected]
