"""The dbt child of a build dies with the build (issue 22, SPEC 6: one build at a time).

A build runs dbt as a subprocess (dagster-dbt). When only the build process is killed (the
OOM killer, `kill -9 PID`), its build lock goes with it, but a plain child would live on
and keep writing to `<warehouse>.building`, which by then is the next build's fresh copy.
`recurwise-dbt` (the build's dbt executable, a console script of this package) asks the
kernel first for SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG), then runs dbt's
own command line in the same process. Plain Python, no Dagster import.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

# dbt's command line in a process that dies with the one that starts it (pyproject.toml).
DBT_EXECUTABLE = Path(sys.executable).parent / "recurwise-dbt"
# <linux/prctl.h>
PR_SET_PDEATHSIG = 1
# The build sets this to its PID before it starts dbt: a child whose parent is already
# gone by the time it asks for the signal (it died between fork and prctl) ends at once.
PARENT_PID_ENV = "RECURWISE_DBT_PARENT_PID"


@contextmanager
def child_environment(values: Mapping[str, str]) -> Iterator[None]:
    """`values` in this process's environment while a child is started, restored after.

    For dbt's processes: dagster-dbt (and its project preparer) copy os.environ into the
    child and take no environment of their own, so the child's profile settings are set
    here for the moment it starts, and the build process's environment stays as it was.
    """
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent ends; exit if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    expected = os.environ.get(PARENT_PID_ENV)
    if expected and expected.isdigit() and os.getppid() != int(expected):
        os._exit(1)


def dbt_main() -> None:
    """`recurwise-dbt ARGS`: `dbt ARGS`, ending when the process that started it ends."""
    die_with_parent()
    from dbt.cli.main import cli

    sys.exit(cli())
