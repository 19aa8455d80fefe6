"""Every way of starting a build has the same guarantees (SPEC 6): one build of a warehouse
at a time, no run touching another's work file, no run of part of the warehouse, the same
publish and finance report, labelled with the warehouse's own as-of date and currency.

Runs here go through the Dagster job the way a run worker of the daemon or the UI runs it
(`execute_in_process` of build_warehouse with its partition range), on real instances;
tests/test_ui.py covers the daemon itself.
"""

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.build.environment import configure_environment
from dagster_project.build.manifest import prepare_dbt_manifest
from dagster_project.build.run import DEMO_LANDING, JOB_NAME, load_definitions
from dagster_project.defs.resources import BuildSettings
from dagster_project.defs.sensors import daily_build
from dagster_project.lib.warehouse import work_path

# Every test here runs real builds (the job, its daemon or the CLI).
pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
DEMO_DAYS = sorted(p.name for p in DEMO_LANDING.iterdir() if p.is_dir())


def recurwise(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "recurwise"), *args], capture_output=True, text=True, timeout=timeout
    )


def landing_with(tmp_path: Path, days: list[str]) -> Path:
    landing = tmp_path / "landing"
    for day in days:
        shutil.copytree(DEMO_LANDING / day, landing / day)
    return landing


def run_job(landing: Path, warehouse: Path, instance: dg.DagsterInstance, **execute):
    """build_warehouse as a run worker runs it: the code location's settings from its
    environment, the snapshot partitions of the run's range."""
    configure_environment(landing, warehouse)
    prepare_dbt_manifest()
    job = load_definitions().resolve_job_def(JOB_NAME)
    keys = sorted(p.name for p in landing.iterdir())
    instance.add_dynamic_partitions("snapshots", keys)
    tags = {
        "dagster/asset_partition_range_start": keys[0],
        "dagster/asset_partition_range_end": keys[-1],
    }
    return job.execute_in_process(
        instance=instance, tags=tags | execute.pop("tags", {}), raise_on_error=False, **execute
    )


def resource_failure(result) -> str:
    events = [e for e in result.all_events if e.event_type_value == "RESOURCE_INIT_FAILURE"]
    assert events, "the run was expected to stop before its first step"
    error = events[0].engine_event_data.error
    while error.cause is not None:
        error = error.cause
    return error.message


def test_a_run_started_while_a_cli_build_runs_refuses_and_leaves_it_alone(tmp_path):
    landing = landing_with(tmp_path, DEMO_DAYS)
    warehouse = tmp_path / "warehouse.duckdb"
    cli = subprocess.Popen(
        [str(BIN / "recurwise"), "build", "--landing", str(landing), "--warehouse", str(warehouse)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        lock = warehouse.with_name("warehouse.duckdb.lock")
        deadline = time.monotonic() + 300
        while not (work_path(warehouse).exists() and lock.exists() and lock.read_text()):
            assert cli.poll() is None, cli.stdout.read()
            assert time.monotonic() < deadline, "the CLI build never started its work file"
            time.sleep(0.2)
        work_inode = work_path(warehouse).stat().st_ino
        with dg.instance_for_test() as instance:
            result = run_job(landing, warehouse, instance)
        assert not result.success
        message = resource_failure(result)
        assert f"another build of {warehouse} is running (PID {cli.pid}" in message
        if cli.poll() is None:  # still building: its work file is the one it made
            assert work_path(warehouse).stat().st_ino == work_inode
        output, _ = cli.communicate(timeout=900)
    finally:
        cli.kill()
    assert cli.returncode == 0, output
    assert "Published" in output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.snapshots").fetchone()[0] == len(DEMO_DAYS)


def test_a_cli_build_while_another_run_holds_the_warehouse_refuses_in_one_line(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from pathlib import Path\n"
         "from dagster_project.lib.warehouse import build_lock\n"
         "with build_lock(Path(sys.argv[1])):\n"
         "    print('holding', flush=True)\n"
         "    time.sleep(120)\n",
         str(warehouse)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    log = warehouse.with_name("warehouse.duckdb.build.log")
    log.write_text("the running build's log\n")
    try:
        assert holder.stdout.readline().strip() == "holding"
        result = recurwise("build", "--landing", str(DEMO_LANDING), "--warehouse", str(warehouse))
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert f"error: another build of {warehouse} is running (PID {holder.pid}" in result.stderr
    assert "build failed" not in result.stderr  # nothing was started, nothing failed
    assert not warehouse.exists() and not work_path(warehouse).exists()
    assert log.read_text() == "the running build's log\n"  # refused before it opened one


def test_a_run_of_part_of_the_warehouse_is_refused_before_it_copies_anything(demo_build, tmp_path):
    landing = landing_with(tmp_path, DEMO_DAYS)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_build.warehouse, warehouse)
    before = warehouse.read_bytes()
    with dg.instance_for_test() as instance:
        # The first run of an asset backfill from the UI: Dagster runs the partitioned
        # ingest assets apart from the rest.
        ingest = [k for k in load_definitions().resolve_all_asset_keys() if k.path[0] == "raw"]
        subset = run_job(landing, warehouse, instance, asset_selection=ingest)
    assert not subset.success
    message = resource_failure(subset)
    assert "this run selects only part of the warehouse" in message
    assert "left out, e.g. finance_report, intermediate/" in message  # names them
    assert "launch the build_warehouse job (with a range of snapshot partitions" in message
    assert warehouse.read_bytes() == before
    assert not work_path(warehouse).exists()
    # "Materialize all": every asset selected, a whole run that publishes.
    with dg.instance_for_test() as instance:
        graph = load_definitions().resolve_asset_graph()
        everything = [k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable]
        whole = run_job(landing, warehouse, instance, asset_selection=everything)
    assert whole.success
    assert warehouse.read_bytes() != before


def test_a_schedule_tick_publishes_a_folder_the_warehouse_lacks_with_a_report(tmp_path):
    landing = landing_with(tmp_path, DEMO_DAYS[:3])
    warehouse = tmp_path / "warehouse.duckdb"
    settings = BuildSettings(landing_dir=str(landing), warehouse_path=str(warehouse))
    (tmp_path / "dagster_home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster_home")) as instance:
        first = run_job(landing, warehouse, instance)
        assert first.success
        report = warehouse.with_name("warehouse.report.html")
        written = report.stat().st_mtime
        # A folder lands while the sensor is stopped: the daily tick finds it.
        shutil.copytree(DEMO_LANDING / DEMO_DAYS[3], landing / DEMO_DAYS[3])
        when = datetime(2026, 11, 17, 6, tzinfo=UTC)
        with dg.build_schedule_context(
            instance=instance, scheduled_execution_time=when, resources={"settings": settings}
        ) as context:
            # As the daemon evaluates a tick (evaluate_tick checks the schedule's answer).
            [request] = daily_build.evaluate_tick(context).run_requests
        job = load_definitions().resolve_job_def(JOB_NAME)
        second = job.execute_in_process(instance=instance, tags=request.tags, raise_on_error=False)
    assert second.success
    partitions = second.dagster_run.tags
    assert partitions["dagster/asset_partition_range_start"] == DEMO_DAYS[3]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        snapshots = con.execute("select snapshot_date from raw.snapshots order by 1").fetchall()
        assert [str(d) for (d,) in snapshots] == DEMO_DAYS
        assert (
            str(con.execute("select as_of_date from marts.build_info").fetchone()[0])
            == DEMO_DAYS[3]
        )
    assert report.stat().st_mtime > written
    assert "as of 16 Nov 2026" in report.read_text(encoding="utf-8")


def test_a_first_year_company_builds_with_a_report(tmp_path):
    """No MRR a year before as-of: the bridge starts from 0, the build succeeds."""
    landing = tmp_path / "landing"
    generated = recurwise(
        "generate", "--accounts", "40", "--days", "2", "--history-days", "200",
        "--out", str(landing),
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    warehouse = tmp_path / "new" / "folder" / "warehouse.duckdb"  # made by the build
    built = recurwise("build", "--landing", str(landing), "--warehouse", str(warehouse))
    assert built.returncode == 0, built.stderr[-3000:]
    assert "Finance report:" in built.stdout + built.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        first_month, as_of = con.execute(
            "select (select min(month) from marts.fct_mrr_monthly), as_of_date "
            "from marts.build_info"
        ).fetchone()
    assert (as_of - first_month).days < 365  # a first-year customer base indeed
    text = warehouse.with_name("warehouse.report.html").read_text(encoding="utf-8")
    assert "could not be drawn" not in text and "MRR bridge, last 12 months" in text


def test_a_build_as_of_a_past_day_in_another_currency_reports_its_own(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    built = recurwise(
        "build", "--landing", str(DEMO_LANDING), "--warehouse", str(warehouse),
        "--as-of", DEMO_DAYS[1], "--set", "corporate_currency=EUR",
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        info = con.execute(
            "select as_of_date, last_snapshot_date, latest_snapshot_loaded, corporate_currency, "
            "settings->>'corporate_currency', settings->>'as_of_date' from marts.build_info"
        ).fetchone()
    assert [str(v) for v in info] == [
        DEMO_DAYS[1],
        DEMO_DAYS[1],
        DEMO_DAYS[-1],
        "EUR",
        "EUR",
        DEMO_DAYS[1],
    ]
    report = warehouse.with_name("warehouse.report.html")
    text = report.read_text(encoding="utf-8")
    assert "Revenue report as of 14 Nov 2026" in text and "Money in EUR" in text
    assert "€" in text and "Money in USD" not in text
    # `recurwise report` on the same warehouse labels it the same way.
    again = recurwise("report", "--warehouse", str(warehouse), "--out", str(tmp_path / "r.html"))
    assert again.returncode == 0, again.stderr
    assert "Money in EUR" in (tmp_path / "r.html").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _restore_environment():
    """configure_environment sets the code location's environment: put it back."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
