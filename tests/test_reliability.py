"""Reliability of publishing (SPEC 6): what analysts and a second build see while a build
runs, is killed, or fails a blocking check.

Real `recurwise build` processes on a small generated landing (60 accounts; the published
warehouse holds two snapshots, the rebuild adds a third). Builds cost most of the time, so
one module fixture builds the starting warehouse and one scenario runs the killed builds,
then the rebuild under readers with a second build started against it; the tests assert
on what the scenario recorded.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from dagster_project.build.errors import BuildError, UsageError
from dagster_project.build.run import run_build
from dagster_project.lib.warehouse import work_path
from synthetic_crm import generate

RECURWISE = Path(sys.executable).parent / "recurwise"
BUILD_TIMEOUT = 420  # seconds; a build of this landing takes 40-120 s on a busy 2-core machine
# Kill moments, as fractions of a whole build: early, middle and late.
FRACTIONS = [(0.03, 0.15), (0.15, 0.4), (0.4, 0.75)]

# What a reader checks: snapshots, one mart's rows, and how many marts there are.
STATE_SQL = """
select
    (select count(*) from raw.snapshots),
    (select count(*) from marts.fct_opportunities),
    (select count(*) from information_schema.tables where table_schema = 'marts')
"""

READER_SCRIPT = """
import json, os, sys, time
import duckdb
path, stop, sql = sys.argv[1], sys.argv[2], sys.argv[3]
reads, states, errors = 0, set(), []
while not os.path.exists(stop):
    try:
        with duckdb.connect(path, read_only=True) as con:
            states.add(tuple(con.execute(sql).fetchone()))
        reads += 1
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    time.sleep(0.05)
print(json.dumps({"reads": reads, "states": sorted(states), "errors": errors[:5],
                  "error_count": len(errors)}))
"""


RUN_ENVIRONMENT = (
    "RECURWISE_LANDING",
    "RECURWISE_WAREHOUSE",
    "RECURWISE_AS_OF",
    "RECURWISE_WORK_DB",
    "RECURWISE_BUILD_FILTER",
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def state(path: Path) -> tuple[int, int, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return tuple(con.execute(STATE_SQL).fetchone())


def start_build(landing: Path, warehouse: Path) -> subprocess.Popen:
    # Its own process group, so that whatever it leaves behind can be found and ended.
    return subprocess.Popen(
        [str(RECURWISE), "build", "--landing", str(landing), "--warehouse", str(warehouse)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def finish(process: subprocess.Popen) -> tuple[int, str]:
    output, _ = process.communicate(timeout=BUILD_TIMEOUT)
    return process.returncode, output


def end_process_group(group: int, grace: float = 1.0) -> None:
    """End what a killed build left running after `grace` seconds.

    A build's dbt dies with it (tests/test_build_children.py); this is the safety net that
    keeps the next build's timings and CPU to itself should anything else be left.
    """
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


def lock_is_held(warehouse: Path) -> bool:
    """Whether a build holds the warehouse's build lock (an flock listed in /proc/locks)."""
    lock_file = warehouse.with_name(warehouse.name + ".lock")
    if not lock_file.exists():
        return False
    inode = os.stat(lock_file).st_ino
    with open("/proc/locks") as locks:
        return any(f":{inode} " in line and "FLOCK" in line for line in locks)


@pytest.fixture(scope="module")
def landings(tmp_path_factory) -> tuple[Path, Path]:
    """Three daily snapshots of 60 accounts, and a landing holding only the first two."""
    root = tmp_path_factory.mktemp("landing")
    three = root / "three"
    generate(accounts=60, days=3, seed=1, out_dir=three)
    two = root / "two"
    for folder in sorted(p for p in three.iterdir() if p.is_dir())[:2]:
        shutil.copytree(folder, two / folder.name)
    return two, three


@dataclass(frozen=True)
class Published:
    warehouse: Path
    build_seconds: float


@pytest.fixture(scope="module")
def published(landings, tmp_path_factory) -> Published:
    """The last good warehouse every test starts from: two snapshots, built by the CLI."""
    warehouse = tmp_path_factory.mktemp("published") / "warehouse.duckdb"
    started = time.monotonic()
    code, output = finish(start_build(landings[0], warehouse))
    assert code == 0, output
    return Published(warehouse, time.monotonic() - started)


def copy_of(published: Published, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    warehouse = directory / "warehouse.duckdb"
    shutil.copyfile(published.warehouse, warehouse)
    return warehouse


# --- the scenario: killed builds, then a rebuild under readers and a second build ------------


@dataclass
class Kill:
    after_seconds: float
    killed: bool  # False: the build had ended by itself before the moment came
    exit_code: int
    digest_before: str
    digest_after: str
    leftovers: list[str]


@dataclass
class Scenario:
    warehouse: Path
    before: tuple[int, int, int]
    kills: list[Kill] = field(default_factory=list)
    rebuild_code: int | None = None
    rebuild_output: str = ""
    after: tuple[int, int, int] | None = None
    second_code: int | None = None
    second_output: str = ""
    second_seconds: float = 0.0
    digest_while_second_ran: tuple[str, str] = ("", "")
    readers: dict[str, dict] = field(default_factory=dict)


def kill_builds(scenario: Scenario, landing: Path, moments: list[float]) -> None:
    for moment in moments:
        digest = sha256(scenario.warehouse)
        build = start_build(landing, scenario.warehouse)
        time.sleep(moment)
        killed = build.poll() is None
        if killed:
            build.send_signal(signal.SIGKILL)  # the build process only, as `kill -9 <pid>`
        build.wait(timeout=60)
        build.stdout.close()
        end_process_group(build.pid)
        leftovers = sorted(
            p.name for p in scenario.warehouse.parent.iterdir() if p.name != "warehouse.duckdb"
        )
        scenario.kills.append(
            Kill(moment, killed, build.returncode, digest, sha256(scenario.warehouse), leftovers)
        )


def thread_reader(path: Path, stop: threading.Event, record: dict) -> None:
    reads, states, errors = 0, set(), []
    while not stop.is_set():
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                states.add(tuple(con.execute(STATE_SQL).fetchone()))
            reads += 1
        except Exception as exc:  # every error is a finding: the test asserts there are none
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(0.05)
    record.update(reads=reads, states=sorted(states), errors=errors[:5], error_count=len(errors))


def rebuild_under_readers(scenario: Scenario, landing: Path) -> None:
    warehouse = scenario.warehouse
    stop_file = warehouse.parent / "stop-readers"
    stop_event = threading.Event()
    processes = {
        f"process-{i}": subprocess.Popen(
            [sys.executable, "-c", READER_SCRIPT, str(warehouse), str(stop_file), STATE_SQL],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    }
    threads = {}
    for i in range(2):
        record: dict = {}
        thread = threading.Thread(target=thread_reader, args=(warehouse, stop_event, record))
        thread.start()
        threads[f"thread-{i}"] = (thread, record)
    try:
        build = start_build(landing, warehouse)
        deadline = time.monotonic() + BUILD_TIMEOUT
        while not lock_is_held(warehouse) and build.poll() is None:
            assert time.monotonic() < deadline, "the rebuild never took its lock"
            time.sleep(0.2)
        # A second build of the same warehouse while the first one holds the lock.
        digest = sha256(warehouse)
        started = time.monotonic()
        scenario.second_code, scenario.second_output = finish(start_build(landing, warehouse))
        scenario.second_seconds = time.monotonic() - started
        scenario.digest_while_second_ran = (digest, sha256(warehouse))
        scenario.rebuild_code, scenario.rebuild_output = finish(build)
        time.sleep(2)  # the readers see the published rebuild too
    finally:
        stop_file.touch()
        stop_event.set()
        for name, process in processes.items():
            output, _ = process.communicate(timeout=60)
            scenario.readers[name] = json.loads(output) if output else {"missing": True}
        for name, (thread, record) in threads.items():
            thread.join(timeout=60)
            scenario.readers[name] = record
    scenario.after = state(warehouse)


@pytest.fixture(scope="module")
def scenario(published, landings, tmp_path_factory) -> Scenario:
    warehouse = copy_of(published, tmp_path_factory.mktemp("scenario"))
    scenario = Scenario(warehouse=warehouse, before=state(warehouse))
    # Random moments from the start of a build (dbt parse) to its last steps (checks,
    # publish), scaled by how long the first build took on this machine.
    rng = random.Random(20261122)
    length = published.build_seconds
    moments = [length * rng.uniform(low, high) for low, high in FRACTIONS]
    kill_builds(scenario, landings[1], moments)
    rebuild_under_readers(scenario, landings[1])
    return scenario


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_the_published_file_byte_identical(scenario):
    killed = [kill for kill in scenario.kills if kill.killed]
    assert len(killed) >= 2, scenario.kills
    for kill in killed:
        assert kill.exit_code == -signal.SIGKILL, kill
        assert kill.digest_after == kill.digest_before, kill
    for kill in scenario.kills:
        if not kill.killed:  # faster than the first build: it must have published
            assert kill.exit_code == 0, kill


@pytest.mark.slow
def test_the_build_after_killed_builds_publishes_without_cleanup(scenario):
    assert scenario.rebuild_code == 0, scenario.rebuild_output
    before_snapshots, after_snapshots = scenario.before[0], scenario.after[0]
    assert (before_snapshots, after_snapshots) == (2, 3)
    assert scenario.after[2] == scenario.before[2]  # the same marts, rebuilt
    # Nothing of the killed builds survives a successful build.
    assert not work_path(scenario.warehouse).exists()


@pytest.mark.slow
def test_readers_in_threads_and_processes_always_see_a_complete_warehouse(scenario):
    assert set(scenario.readers) == {"thread-0", "thread-1", "process-0", "process-1"}
    for name, record in scenario.readers.items():
        assert record["error_count"] == 0, (name, record["errors"])
        assert record["reads"] > 0, name
        states = {tuple(s) for s in record["states"]}
        assert states <= {scenario.before, scenario.after}, (name, states)
        assert scenario.after in states, name


@pytest.mark.slow
def test_a_second_build_refuses_while_one_runs(scenario):
    assert scenario.second_code == 1, scenario.second_output
    output = " ".join(scenario.second_output.split())
    assert "another build of" in output and "is running" in output
    assert "Traceback" not in scenario.second_output
    before, during = scenario.digest_while_second_ran
    assert before == during  # the refused build touched nothing


# --- a failing blocking check ----------------------------------------------------------------


@pytest.mark.slow
def test_a_failing_blocking_check_keeps_the_old_warehouse(
    published, landings, tmp_path, monkeypatch
):
    """The real suite of raw.opportunity judges the real latest snapshot with one Id twice."""
    import polars as pl

    from dagster_project.defs import checks
    from dagster_project.lib import expectations

    real_run_rule = checks.run_rule

    def run_rule_with_a_duplicate_id(con, rule, limit=expectations.FRAME_ROWS):
        if rule.asset == ("raw", "opportunity") and rule.name == "latest_snapshot_valid":
            frame = con.sql(rule.frame_sql(limit)).pl()
            frame = pl.concat([frame, frame.head(1)])
            return expectations.validate_frame(frame, rule.suite(), rule.index_columns)
        return real_run_rule(con, rule, limit)

    monkeypatch.setattr(checks, "run_rule", run_rule_with_a_duplicate_id)
    # run_build sets these for the run; monkeypatch puts the old values back afterwards.
    for name in RUN_ENVIRONMENT:
        monkeypatch.setenv(name, os.environ.get(name, ""))
    warehouse = copy_of(published, tmp_path)
    digest = sha256(warehouse)
    with pytest.raises(BuildError) as failure:
        run_build(landings[1], warehouse)
    message = str(failure.value)
    assert "raw/opportunity" in message and "latest_snapshot_valid" in message
    assert "published warehouse was left as it was" in message
    assert sha256(warehouse) == digest


# --- build filters are refused before anything runs -------------------------------------------


@pytest.mark.parametrize(
    "build_filter",
    [
        "1=1; drop table raw.account",
        "is_won; drop table raw.account",
        "opportunity_id in (select id from raw.account)",
        "exists (select 1 from raw.account)",
        "amount > (select max(amount) from raw.opportunity)",
        "read_csv('/etc/passwd') is not null",
        "length(opportunity_name) > 3",
        "raw.account.Id is not null",
        "is_won) or (1=1",
        "close_date > now()",
        "",
    ],
)
def test_build_filter_injection_is_refused_before_anything_runs(build_filter, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    warehouse = tmp_path / "warehouse.duckdb"
    with pytest.raises(UsageError, match="build filter"):
        run_build(landing, warehouse, build_filter=build_filter)
    # Refused before the lock, the work file or any build log was made.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["landing"]


@pytest.mark.slow
def test_build_filter_refusal_from_the_command_line(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    result = subprocess.run(
        [
            str(RECURWISE),
            "build",
            "--landing",
            str(landing),
            "--warehouse",
            str(tmp_path / "warehouse.duckdb"),
            "--build-filter",
            "1=1; drop table raw.account",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "build filter" in result.stderr and "Traceback" not in result.stderr


def test_lock_probe_sees_a_held_flock(tmp_path):
    """The scenario's wait for the rebuild's lock relies on /proc/locks listing flocks."""
    warehouse = tmp_path / "warehouse.duckdb"
    lock_file = warehouse.with_name(warehouse.name + ".lock")
    with lock_file.open("w") as handle:
        assert not lock_is_held(warehouse)
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert lock_is_held(warehouse)
