"""Files recurwise writes for people (exports, the report, dbt's docs): where, how, with what.

- No output path may be the warehouse, its work file, its lock or write-ahead log, or a
  file in a snapshot folder of the landing folder (SPEC 6, Safety): paths are compared
  resolved (symlinks followed) and by inode, so a symlink or a hard link to one of them is
  refused too.
- A file is written beside its target and renamed into place, so a failed write never
  leaves half a file; the new file gets the mode of the file it replaces, or the umask's
  default for a new file.
- Text cells of CSV files meant for a spreadsheet are neutralized against formula
  injection (OWASP's rule): a cell starting with = + - @, a tab or a carriage return gets
  a leading single quote, unless the whole cell is a plain number.

Plain Python, no Dagster import.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

# Characters a spreadsheet reads as the start of a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
# The same rules in DuckDB SQL (RE2; SQL strings keep backslashes as they are).
_SQL_FORMULA_START = r"^[=+\-@\t\r]"
_SQL_PLAIN_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"


_SNAPSHOT_FOLDER = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class OutputPathError(ValueError):
    """An output path that would overwrite what recurwise must not overwrite."""


def neutralize(text: str) -> str:
    """`text` safe to open in a spreadsheet: a formula-leading cell gets a leading quote."""
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def neutralized_sql(column_sql: str) -> str:
    """A DuckDB expression: the text column `column_sql` neutralized as `neutralize` does."""
    return (
        f"case when regexp_matches({column_sql}, '{_SQL_FORMULA_START}') "
        f"and not regexp_matches({column_sql}, '{_SQL_PLAIN_NUMBER}') "
        f"then '''' || {column_sql} else {column_sql} end"
    )


def warehouse_files(warehouse: Path) -> list[Path]:
    """The files of a warehouse no output may replace: the published file, its work file
    (`<warehouse>.building`), their write-ahead logs, and the build lock."""
    warehouse = Path(warehouse)
    names = (".building", ".building.wal", ".wal", ".lock")
    return [warehouse, *(warehouse.with_name(warehouse.name + suffix) for suffix in names)]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_output_path(
    out: Path, warehouse: Path | None = None, landing: Iterable[Path] = ()
) -> Path:
    """`out`, unless it is (or links to) a file of `warehouse` or lies in a `landing` folder.

    Returns the path as given; raises OutputPathError naming what it would overwrite.
    """
    out = Path(out)
    target = out.resolve()
    if warehouse is not None:
        for protected in warehouse_files(warehouse):
            if target == protected.resolve() or _same_file(out, protected):
                raise OutputPathError(
                    f"{out} is {protected}, a file of the warehouse; "
                    "write the output somewhere else"
                )
    for root in landing:
        root = Path(root).resolve()
        if target != root and root not in target.parents:
            continue
        # The landing folder itself, or anything in a snapshot folder (YYYY-MM-DD) of it,
        # existing or still to come; a file beside the snapshot folders is fine.
        parts = target.relative_to(root).parts
        if not parts or (len(parts) > 1 and _SNAPSHOT_FOLDER.fullmatch(parts[0])):
            raise OutputPathError(
                f"{out} is in the landing folder {root} (CRM exports only); "
                "write the output somewhere else"
            )
    return out


def default_file_mode() -> int:
    """The mode a new file gets under this process's umask (0o644 under umask 022)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(out: Path, write: Callable[[Path], object]) -> object:
    """Call `write(partial)` on a new file beside `out`, then rename it over `out`.

    The partial file is created exclusively (never through a symlink someone left under
    its name) and gets the mode of the file it replaces, or the umask's default; on any
    error it is removed and `out` is left as it was. Returns what `write` returns.
    """
    out = Path(out)
    handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    os.close(handle)
    partial = Path(name)
    try:
        result = write(partial)
        try:
            mode = os.stat(out).st_mode & 0o7777
        except FileNotFoundError:
            mode = default_file_mode()
        os.chmod(partial, mode)
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return result


def describe_os_error(exc: OSError) -> str:
    """An OSError in words, with the file it concerns: 'No space left on device: /x/y'."""
    reason = exc.strerror or str(exc)
    return f"{reason}: {exc.filename}" if exc.filename else reason


def landing_folders(con) -> list[Path]:
    """The landing folders a warehouse was built from (each snapshot folder's parent),
    from raw.snapshots; none for a warehouse without that table."""
    try:
        rows = con.execute("select distinct folder from raw.snapshots").fetchall()
    except Exception:  # not a recurwise warehouse, or an older one: no folders
        return []
    return sorted({Path(folder).parent for (folder,) in rows if folder})


# C0 and C1 control characters but the newline: a CRM value holding ESC [31m (a terminal
# escape sequence) must print as text, never steer the terminal.
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x00, 0x20), *range(0x7F, 0xA0))}
del _CONTROL[ord("\n")]


def console_text(value: object) -> str:
    """`value` ready for a rich console: markup escaped, control characters shown as \\xNN."""
    from rich.markup import escape

    return escape(str(value).translate(_CONTROL))
