"""The recurwise command: expected errors end in one message and exit code 1, no traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project import cli
from dagster_project.build import manifest as dbt_manifest
from dagster_project.build.errors import UsageError
from dagster_project.build.manifest import manifest_is_current
from dagster_project.cli import parse_settings
from dagster_project.defs.dbt import _start_from_latest_parse
from dagster_project.defs.resources import BuildSettings
from dagster_project.lib.settings import overridable_settings
from dagster_project.lib.warehouse import PARTIAL_PARSE, dbt_target_dir
from tests.conftest import write_snapshot

RECURWISE = str(Path(sys.executable).parent / "recurwise")


def recurwise(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RECURWISE, *args], capture_output=True, text=True, timeout=600)


def test_the_dbt_parse_is_skipped_only_while_the_manifest_is_current(tmp_path):
    project = tmp_path / "dbt_project"
    model = project / "models" / "m.sql"
    seed = tmp_path / "seeds" / "reference" / "s.csv"
    manifest = project / "target" / "manifest.json"
    for path in (model, seed, manifest):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    for path in (model, seed, model.parent, seed.parent, project, seed.parent.parent):
        os.utime(path, (1_000, 1_000))
    os.utime(manifest, (2_000, 2_000))
    assert manifest_is_current(manifest, project)
    extra = model.parent / "removed.sql"
    extra.write_text("x")
    extra.unlink()  # a model deleted after the last parse: its folder changed
    assert not manifest_is_current(manifest, project)
    os.utime(model.parent, (1_000, 1_000))
    os.utime(seed, (3_000, 3_000))  # a reference seed edited after the last parse
    assert not manifest_is_current(manifest, project)
    os.utime(seed, (1_000, 1_000))
    os.utime(model, (3_000, 3_000))
    assert not manifest_is_current(manifest, project)
    manifest.unlink()
    assert not manifest_is_current(manifest, project)


@pytest.mark.slow
def test_a_start_of_build_parse_is_left_for_the_dbt_invocations(tmp_path, monkeypatch):
    from dagster_project.dbt_project import dbt_project

    monkeypatch.setattr(dbt_manifest, "manifest_is_current", lambda *_: False)
    warehouse = tmp_path / "warehouse.duckdb"
    dbt_manifest.prepare_dbt_manifest(warehouse)
    left = dbt_target_dir(warehouse) / "start_of_build" / PARTIAL_PARSE
    parsed = dbt_project.manifest_path.with_name(PARTIAL_PARSE)
    assert left.read_bytes() == parsed.read_bytes()


def test_each_dbt_invocation_starts_from_the_newest_parse(tmp_path):
    first, second, start = (tmp_path / name for name in ("first", "second", "start_of_build"))
    _start_from_latest_parse(first)  # nothing parsed yet: dbt parses
    assert not (first / PARTIAL_PARSE).exists()
    for folder, content, when in ((start, "start", 1_000), (first, "first", 2_000)):
        folder.mkdir()
        (folder / PARTIAL_PARSE).write_text(content)
        os.utime(folder / PARTIAL_PARSE, (when, when))
    _start_from_latest_parse(second)  # a target with no parse takes the newest
    assert (second / PARTIAL_PARSE).read_text() == "first"
    (second / PARTIAL_PARSE).write_text("second")
    os.utime(second / PARTIAL_PARSE, (2_000, 2_000))
    _start_from_latest_parse(first)  # no other parse is newer: it keeps its own
    assert (first / PARTIAL_PARSE).read_text() == "first"
    os.utime(start / PARTIAL_PARSE, (3_000, 3_000))  # the project changed and was parsed
    _start_from_latest_parse(first)
    assert (first / PARTIAL_PARSE).read_text() == "start"


def test_settings_become_dbt_vars():
    values = parse_settings(["renewal_horizon_days=90", "new_logo_lookback_months=null"])
    assert values == {"renewal_horizon_days": 90, "new_logo_lookback_months": None}
    settings = BuildSettings(
        landing_dir="x", warehouse_path="y", as_of_date="2026-01-31",
        dbt_vars_json='{"renewal_horizon_days": 90}',
    )  # fmt: skip
    assert settings.dbt_vars() == {"renewal_horizon_days": 90, "as_of_date": "2026-01-31"}
    assert {"renewal_horizon_days", "renewal_lead_time_days", "renewal_match_window_days",
            "new_logo_lookback_months"} <= set(overridable_settings())  # fmt: skip


@pytest.mark.parametrize("pair", ["nope=1", "renewal_horizon_days", "renewal_horizon_days=soon"])
def test_bad_settings_are_refused(pair):
    with pytest.raises(UsageError):
        parse_settings([pair])


def test_every_subcommand_has_a_handler():
    parser = cli.build_parser()
    subcommands = next(a for a in parser._actions if a.dest == "command").choices
    assert set(subcommands) == set(cli.COMMANDS)


def test_importing_the_command_reads_no_dbt_project_file():
    """The dbt project is read when a command needs it (the --set help, a build), not when
    the module is imported."""
    script = (
        "import sys\n"
        "opened = []\n"
        "sys.addaudithook(lambda event, args: event == 'open' and opened.append(str(args[0])))\n"
        "import dagster_project.cli\n"
        "print([p for p in opened if p.endswith('dbt_project.yml')])\n"
        "dagster_project.cli.build_parser()\n"
        "print([p for p in opened if p.endswith('dbt_project.yml')])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    at_import, after_parser = result.stdout.splitlines()
    assert at_import == "[]"
    assert "dbt_project.yml" in after_parser  # the --set help names the settings


def test_missing_landing_folder(tmp_path):
    result = recurwise("build", "--landing", str(tmp_path / "nowhere"),
                       "--warehouse", str(tmp_path / "w.duckdb"))  # fmt: skip
    assert result.returncode == 1
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_landing_without_snapshot_folders(tmp_path):
    result = recurwise("build", "--landing", str(tmp_path), "--warehouse", str(tmp_path / "w.db"))
    assert result.returncode == 1
    assert "no snapshot folders" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_bad_file_stops_the_build_and_names_file_and_column(tmp_path):
    landing = tmp_path / "landing"
    write_snapshot(landing, "2026-01-01", {
        "Account.csv": "Id,Name\n001A,Acme\n",
        "Product2.csv": "Id,Name\n01tA,Platform\n",
        "Opportunity.csv": "Id,AccountId,Name,StageName,CloseDate,IsClosed,IsWon,CreatedDate\n",
        "OpportunityLineItem.csv": "Id,OpportunityId,Product2Id,Quantity,UnitPrice\n",
    })  # fmt: skip
    warehouse = tmp_path / "w.duckdb"
    result = recurwise("build", "--landing", str(landing), "--warehouse", str(warehouse))
    assert result.returncode == 1
    assert "Account.csv: required column CreatedDate is missing" in result.stderr
    assert "Traceback" not in result.stderr
    assert not warehouse.exists()


def test_unsafe_build_filter_is_refused(tmp_path):
    result = recurwise("build", "--landing", str(tmp_path), "--warehouse", str(tmp_path / "w"),
                       "--build-filter", "is_won; drop table raw.account")  # fmt: skip
    assert result.returncode == 1
    assert "not several statements" in result.stderr and "Traceback" not in result.stderr


def test_report_and_export_commands_on_the_demo(demo_build, tmp_path):
    warehouse = str(demo_build.warehouse)
    cli.main(["report", "--warehouse", warehouse, "--out", str(tmp_path / "report.html")])
    assert (tmp_path / "report.html").stat().st_size > 100_000
    cli.main(["export", "fct_mrr_monthly", "--format", "parquet",
              "--out", str(tmp_path / "mrr.parquet"), "--warehouse", warehouse])  # fmt: skip
    assert (tmp_path / "mrr.parquet").stat().st_size > 0
    cli.main(["export", "renewals", "--out", str(tmp_path / "renewals.csv"),
              "--warehouse", warehouse])  # fmt: skip
    header = (tmp_path / "renewals.csv").read_text().splitlines()[0]
    assert header == "AccountId,Name,Type,StageName,CloseDate,Amount"
    assert demo_build.report is not None and demo_build.report.is_file()
    cli.main(["docs", "--warehouse", warehouse, "--out", str(tmp_path / "dbt-docs.html")])
    assert "fct_mrr_monthly" in (tmp_path / "dbt-docs.html").read_text()
