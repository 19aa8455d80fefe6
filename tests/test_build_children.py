"""Issue 22: a build's children die with it, and a build never starts on a work file that a
live process still holds; readers see a new warehouse once they reconnect.

The kill test runs real `recurwise build` processes on the demo snapshots: SIGKILL of the
build process only (as the OOM killer or `kill -9 PID` does), in the middle of dbt, then a
second build at once.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from dagster_project.build.run import DEMO_LANDING
from dagster_project.lib import warehouse as warehouse_files
from dagster_project.lib.child_process import PARENT_PID_ENV
from dagster_project.lib.warehouse import (
    BuildLockedError,
    build_lock,
    file_lock_holder,
    publish,
    start_work_copy,
    wait_until_released,
    work_path,
)

BIN = Path(sys.executable).parent
BUILD_TIMEOUT = 600

PARENT_SCRIPT = """
import os, subprocess, sys, time
child = ("from dagster_project.lib.child_process import die_with_parent; "
         "die_with_parent(); import time; time.sleep(120)")
plain = "import time; time.sleep(120)"
env = {**os.environ, "RECURWISE_DBT_PARENT_PID": str(os.getpid())}
guarded = subprocess.Popen([sys.executable, "-c", child], env=env)
unguarded = subprocess.Popen([sys.executable, "-c", plain])
print(guarded.pid, unguarded.pid, flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its new parent to reap it has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_child_that_asked_for_it_dies_with_its_parent_and_a_plain_one_does_not():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT_SCRIPT], stdout=subprocess.PIPE, text=True
    )
    guarded, unguarded = (int(pid) for pid in parent.stdout.readline().split())
    time.sleep(1.0)  # both children are past die_with_parent()
    assert alive(guarded) and alive(unguarded)
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=10)
    try:
        assert wait_for(lambda: not alive(guarded), timeout=5)
        assert alive(unguarded)  # what every dbt child did before (the orphan of issue 22)
    finally:
        os.kill(unguarded, signal.SIGKILL)


def test_recurwise_dbt_ends_at_once_when_its_parent_is_already_gone():
    run = subprocess.run(
        [str(BIN / "recurwise-dbt"), "--version"],
        env={**os.environ, PARENT_PID_ENV: str(os.getpid())},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0 and "installed:" in run.stdout
    orphan = subprocess.run(
        [str(BIN / "recurwise-dbt"), "--version"],
        env={**os.environ, PARENT_PID_ENV: "1"},  # the build that started it is not its parent
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert orphan.returncode == 1 and orphan.stdout == ""


HOLDER_SCRIPT = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("create or replace table held as select 42 as answer")
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold(path: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER_SCRIPT, str(path), str(seconds)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_a_build_refuses_a_work_file_another_live_process_holds(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    work = work_path(warehouse)
    holder = hold(work, 60)
    try:
        assert file_lock_holder(work) == holder.pid
        started = time.monotonic()
        with pytest.raises(BuildLockedError, match=f"still open in process {holder.pid}"):
            wait_until_released(work, timeout=1.0)
        assert time.monotonic() - started >= 1.0
        original = warehouse_files.WORK_FILE_WAIT_SECONDS
        warehouse_files.WORK_FILE_WAIT_SECONDS = 0.5
        try:
            with pytest.raises(BuildLockedError, match=f"kill {holder.pid}"):
                start_work_copy(warehouse)
        finally:
            warehouse_files.WORK_FILE_WAIT_SECONDS = original
        assert work.exists()  # the holder's file was not removed under it
    finally:
        holder.kill()
        holder.wait()
    assert file_lock_holder(work) is None


def test_a_build_waits_for_a_holder_that_goes_away(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    work = work_path(warehouse)
    holder = hold(work, 1.5)
    started = time.monotonic()
    start_work_copy(warehouse)  # waits, then starts from a fresh copy
    assert 0.5 < time.monotonic() - started < warehouse_files.WORK_FILE_WAIT_SECONDS
    holder.wait(timeout=30)
    with duckdb.connect(str(work)) as con:
        tables = con.execute("select table_name from information_schema.tables").fetchall()
    assert tables == []  # the copy of the (empty) published warehouse, not the holder's file


TAKE_LOCK = """
import sys
from pathlib import Path
from dagster_project.lib.warehouse import build_lock
with build_lock(Path(sys.argv[1])):
    pass
"""


def test_the_build_lock_is_reentrant_in_its_process_and_refuses_another(tmp_path):
    """`recurwise build` holds the lock and its run takes it again; another process (the
    daemon's run worker, a second CLI) is refused, naming the holder's PID."""
    warehouse = tmp_path / "warehouse.duckdb"
    with build_lock(warehouse), build_lock(warehouse):
        other = subprocess.run(
            [sys.executable, "-c", TAKE_LOCK, str(warehouse)], capture_output=True, text=True
        )
        assert other.returncode == 1
        assert f"another build of {warehouse} is running (PID {os.getpid()}" in other.stderr
    with build_lock(warehouse):  # released by both holders: free again
        pass
    again = subprocess.run([sys.executable, "-c", TAKE_LOCK, str(warehouse)], capture_output=True)
    assert again.returncode == 0


def build_process(warehouse: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "recurwise"), "build", "--landing", str(DEMO_LANDING),
         "--warehouse", str(warehouse)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip


def children_of(pid: int) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append((int(entry.name), cmdline))
    return found


def session_members(session: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == session and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def test_sigkill_of_the_build_mid_dbt_leaves_no_orphan_and_the_next_build_publishes(
    demo_build, tmp_path
):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_build.warehouse, warehouse)
    first = build_process(warehouse)
    dbt = None
    deadline = time.monotonic() + BUILD_TIMEOUT
    while dbt is None and time.monotonic() < deadline and first.poll() is None:
        dbt = next((pid for pid, cmd in children_of(first.pid) if "recurwise-dbt" in cmd), None)
        time.sleep(0.1)
    assert dbt is not None, "the build never started dbt"
    time.sleep(2.0)  # dbt is building models into the work file
    assert alive(dbt) and first.poll() is None
    first.send_signal(signal.SIGKILL)  # the build process only
    first.wait(timeout=30)
    first.stdout.close()

    second = subprocess.run(
        [str(BIN / "recurwise"), "build", "--landing", str(DEMO_LANDING),
         "--warehouse", str(warehouse)],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Published" in second.stderr
    assert not alive(dbt)
    assert session_members(first.pid) == []  # nothing of the first build is left
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from marts.dim_accounts").fetchone()[0] == 280


def test_a_reader_sees_a_new_warehouse_once_every_connection_of_its_process_closed(tmp_path):
    """What README's "Querying the warehouse" tells analysts: DuckDB keeps one database per
    file and process, so a process with a connection open keeps the old file, even through a
    new connect(), until all of its connections are closed."""
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts; create table marts.build as select 1 as number")
    with duckdb.connect(str(work_path(warehouse))) as con:
        con.execute("create schema marts; create table marts.build as select 2 as number")
    notebook = duckdb.connect(str(warehouse), read_only=True)
    assert notebook.execute("from marts.build").fetchone() == (1,)
    publish(warehouse)
    again = duckdb.connect(str(warehouse), read_only=True)
    assert again.execute("from marts.build").fetchone() == (1,)  # still the old warehouse
    notebook.close()
    assert again.execute("from marts.build").fetchone() == (1,)  # one connection still open
    again.close()
    with duckdb.connect(str(warehouse), read_only=True) as fresh:
        assert fresh.execute("from marts.build").fetchone() == (2,)
