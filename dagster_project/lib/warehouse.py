"""The warehouse files: where a build writes, how it publishes, who may build at once.

A build never writes the analysts' file. It works on `<warehouse>.building` (a copy of the
published file, so raw history carries over) and, when everything passed, copies it into a
file in DuckDB 1.x's storage format and renames that over the published file in one atomic
step (SPEC 6). Plain Python, no Dagster import.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


class BuildLockedError(Exception):
    """Another build of the same warehouse is running."""


# DuckDB's own default is 80% of RAM; a build also holds the subscription builder's
# frames and Python itself, so DuckDB gets a fixed share and spills beyond it.
DEFAULT_MEMORY_LIMIT = "8GB"


# The storage format of the published file: the oldest that DuckDB 2.0 writes and that
# keeps everything the warehouse holds readable (types, views, comments, raw.snapshots'
# primary key, which the next build's ingest needs). Files written as v1.0.0 or older with
# an index are refused by DuckDB 1.0 and 0.10 readers; v1.1.0 opens in DuckDB 1.1 to 1.5
# (CLI, JDBC/ODBC, node, WASM) and in 2.0. Measured in docs/duckdb.md.
PUBLISHED_STORAGE_VERSION = "v1.1.0"


def work_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".building")


def staged_path(warehouse: Path) -> Path:
    """The finished work file copied in the published storage format, before its rename."""
    return warehouse.with_name(warehouse.name + ".building.publish")


# dbt's saved parse of the project, in a target/ folder.
PARTIAL_PARSE = "partial_parse.msgpack"


def dbt_target_dir(warehouse: Path) -> Path:
    """dbt's target/ folders of this warehouse's builds, one per dbt invocation: run
    results and the saved parse kept between builds, no two warehouses sharing one."""
    return warehouse.with_name(warehouse.name + ".dbt")


def spill_directory(warehouse: Path) -> Path:
    """Where DuckDB writes what does not fit in its memory limit during a build."""
    return warehouse.with_name(warehouse.name + ".spill")


def dbt_environment(warehouse: Path) -> dict[str, str]:
    """What dbt_project/profiles.yml reads: the work file and the DuckDB settings."""
    settings = duckdb_settings(warehouse)
    return {
        "RECURWISE_WORK_DB": str(work_path(warehouse)),
        "RECURWISE_DUCKDB_MEMORY_LIMIT": settings["memory_limit"],
        "RECURWISE_DUCKDB_TEMP_DIRECTORY": settings["temp_directory"],
    }


def duckdb_settings(warehouse: Path) -> dict[str, str]:
    """Memory limit and spill directory of every connection of a build (dbt's too).

    RECURWISE_MEMORY_LIMIT overrides the limit (any DuckDB size: 4GB, 12GB, ...).
    """
    return {
        "memory_limit": os.environ.get("RECURWISE_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT,
        "temp_directory": str(spill_directory(warehouse)),
    }


def _remove_database(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)


def start_work_copy(warehouse: Path) -> Path:
    """A fresh work file: the published warehouse copied, or nothing yet (a first build).

    A work file left by a killed build is discarded here, so the next build recovers
    without manual cleanup; but never one that a live process still has open (a dbt left
    by a build killed a moment ago): that waits for it to go, or refuses naming it. The
    copy keeps the published file's mode, so a publish never widens who may read it; a
    first build's file is created by DuckDB under the umask.
    """
    work = work_path(warehouse)
    work.parent.mkdir(parents=True, exist_ok=True)
    wait_until_released(work)
    _remove_database(work)
    _remove_database(staged_path(warehouse))
    if warehouse.exists():
        shutil.copyfile(warehouse, work)
        os.chmod(work, stat.S_IMODE(os.stat(warehouse).st_mode))
    return work


def _sql_literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def write_compatible_copy(source: Path, target: Path, settings: dict[str, str]) -> None:
    """Copy every schema, table (constraints included), view and comment of `source`
    into a new file `target` written in PUBLISHED_STORAGE_VERSION."""
    _remove_database(target)
    with duckdb.connect(config=settings) as con:
        con.execute(f"attach {_sql_literal(source)} as finished (read_only)")
        con.execute(
            f"attach {_sql_literal(target)} as published "
            f"(storage_version '{PUBLISHED_STORAGE_VERSION}')"
        )
        con.execute("copy from database finished to published")
        # Detaching checkpoints: the target has no write-ahead log left to carry.
        con.execute("detach published")


# How long a build waits for another process to let go of the work file. A dbt child of a
# killed build dies with it (lib/child_process.py) within milliseconds; anything holding
# the file longer is not ours to end.
WORK_FILE_WAIT_SECONDS = 15.0


def file_lock_holder(path: Path) -> int | None:
    """The PID of a process holding a DuckDB (POSIX record) lock on `path`, if any."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        # struct flock on Linux: l_type, l_whence, l_start, l_len, l_pid (+ padding).
        probe = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        lock_type, _, _, _, pid = struct.unpack("hhqqi4x", fcntl.fcntl(fd, fcntl.F_GETLK, probe))
    finally:
        os.close(fd)
    return None if lock_type == fcntl.F_UNLCK else pid


def _process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "unknown"


def wait_until_released(work: Path, timeout: float | None = None) -> None:
    """Return once no other process holds `work`; BuildLockedError naming it after `timeout`
    seconds (default WORK_FILE_WAIT_SECONDS)."""
    timeout = WORK_FILE_WAIT_SECONDS if timeout is None else timeout
    deadline = time.monotonic() + timeout
    while (pid := file_lock_holder(work)) is not None:
        if time.monotonic() >= deadline:
            raise BuildLockedError(
                f"the work file {work} is still open in process {pid} "
                f"({_process_name(pid)}) after {timeout:.0f}s, perhaps left by a killed "
                f"build; the build did not start. End that process (kill {pid}) and build again"
            )
        time.sleep(0.2)


def discard_work_file(warehouse: Path) -> None:
    """Remove a failed build's work file and its write-ahead log, unless another process
    holds the file."""
    work = work_path(warehouse)
    if file_lock_holder(work) is None:
        _remove_database(work)


def publish(warehouse: Path) -> Path:
    """Atomically replace the published warehouse with the finished work file, written in
    the storage format DuckDB 1.x reads (PUBLISHED_STORAGE_VERSION)."""
    work = work_path(warehouse)
    if not work.exists():
        raise FileNotFoundError(f"{work}: no finished work file to publish")
    if work.with_name(work.name + ".wal").exists():
        raise RuntimeError(f"{work}: still has a write-ahead log; close every connection first")
    staged = staged_path(warehouse)
    try:
        write_compatible_copy(work, staged, duckdb_settings(warehouse))
        if warehouse.exists():
            # Analysts' and BI tools' access to the file stays as it was set.
            os.chmod(staged, warehouse.stat().st_mode & 0o7777)
        os.replace(staged, warehouse)
    except BaseException:
        _remove_database(staged)
        raise
    _remove_database(work)
    # Make the rename itself durable before reporting success.
    directory = os.open(warehouse.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return warehouse


# Build locks this process holds (resolved lock path -> how many holders): the CLI takes
# the lock before it parses dbt or opens the build log, and the run's resource joins it.
_HELD_LOCKS: dict[Path, int] = {}


@contextmanager
def build_lock(warehouse: Path) -> Iterator[None]:
    """Hold the build lock of `warehouse`; a build in another process refuses with
    BuildLockedError naming the PID of the build that holds it (written into the lock file).

    Re-entrant within a process: `recurwise build` holds it from before its first step
    (the dbt parse, the build log) and the run it starts takes it again.
    """
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock_file = warehouse.with_name(warehouse.name + ".lock")
    key = lock_file.resolve()
    if key in _HELD_LOCKS:
        _HELD_LOCKS[key] += 1
        try:
            yield
        finally:
            _HELD_LOCKS[key] -= 1
        return
    # Not truncated on open: the file holds the PID of the build that has the lock. Never
    # through a symlink planted under its name (ELOOP: one message, see build/run.py run_build).
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
    with os.fdopen(fd, "r+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = handle.read(20).strip()
            holder = holder if holder.isdigit() else "unknown"
            raise BuildLockedError(
                f"another build of {warehouse} is running (PID {holder}, lock {lock_file}); "
                "wait for it to finish"
            ) from None
        _HELD_LOCKS[key] = 1
        try:
            handle.truncate(0)
            handle.write(str(os.getpid()))
            handle.flush()
            yield
        finally:
            del _HELD_LOCKS[key]
            fcntl.flock(handle, fcntl.LOCK_UN)
