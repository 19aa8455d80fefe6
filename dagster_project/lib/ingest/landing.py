"""The landing folder: its snapshot folders (YYYY-MM-DD) and the export file of each
CRM object in them, names matched case-insensitively, ZIP archives read as if unpacked."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..crm_schema import OBJECTS
from .errors import FileLevelError


@dataclass(frozen=True)
class ExportFile:
    """One object's export in a snapshot folder: a file, or a member of a ZIP there."""

    path: Path  # the file, or the ZIP archive holding it
    member: str | None = None  # the member's name inside the ZIP

    @property
    def name(self) -> str:
        """How messages and raw.<object>._source_file name it."""
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    @property
    def is_parquet(self) -> bool:
        return Path(self.member or self.path.name).suffix.lower() == ".parquet"


@dataclass
class SnapshotFiles:
    files: dict[str, ExportFile]  # object name -> its export
    ignored: list[str]  # files that name no known object (reported, never loaded)


EXPORT_SUFFIXES = (".csv", ".parquet")


def snapshot_files(folder: Path) -> SnapshotFiles:
    """The export of every object in a snapshot folder, file names matched case-insensitively,
    ZIP archives read as if unpacked (the weekly Data Export); two files for one object are
    a file-level error, files that name no object are listed in `ignored`."""
    by_name = {o.name.lower(): o.name for o in OBJECTS}
    found: dict[str, list[ExportFile]] = {}
    ignored: list[str] = []

    def consider(export: ExportFile, file_name: str) -> None:
        stem, suffix = Path(file_name).stem.lower(), Path(file_name).suffix.lower()
        if suffix in EXPORT_SUFFIXES and stem in by_name:
            found.setdefault(by_name[stem], []).append(export)
        else:
            ignored.append(export.name)

    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue  # .DS_Store and the like: not an export
        if entry.is_file() and entry.suffix.lower() == ".zip":
            try:
                with zipfile.ZipFile(entry) as archive:
                    members = [m.filename for m in archive.infolist() if not m.is_dir()]
            except (zipfile.BadZipFile, OSError) as exc:
                raise FileLevelError(f"{entry}: not a readable ZIP archive ({exc})") from None
            for member in members:
                consider(ExportFile(entry, member), Path(member).name)
        elif entry.is_file():
            consider(ExportFile(entry), entry.name)
        else:
            ignored.append(str(entry))
    for object_name, exports in found.items():
        if len(exports) > 1:
            raise FileLevelError(
                f"{folder}: {len(exports)} files for {object_name} "
                f"({', '.join(e.name for e in exports)}); keep one"
            )
    return SnapshotFiles({name: exports[0] for name, exports in found.items()}, ignored)


_SNAPSHOT_NAME = re.compile(r"([0-9]{4})-?([0-9]{2})-?([0-9]{2})")


@dataclass
class Landing:
    """A landing directory read once: its snapshot folders and what each one holds."""

    root: Path
    snapshots: dict[date, Path]  # snapshot date -> folder, oldest first
    files: dict[date, SnapshotFiles]  # what each snapshot folder holds
    ignored: list[str]  # entries that are not snapshot folders

    @property
    def warnings(self) -> list[str]:
        """What a build of this landing will not load, in words: folders that are no
        snapshot, files in snapshot folders that name no CRM object."""
        warnings = []
        if self.ignored:
            warnings.append(
                f"{self.root}: not snapshot folders (name them YYYY-MM-DD), not loaded: "
                + ", ".join(self.ignored)
            )
        for snapshot_date, folder in self.snapshots.items():
            ignored = self.files[snapshot_date].ignored
            if ignored:
                shown_names = ", ".join(Path(name).name for name in ignored[:10])
                more = f" and {len(ignored) - 10} more" if len(ignored) > 10 else ""
                warnings.append(
                    f"{folder}: files that name no CRM object, not loaded: {shown_names}{more}"
                )
        return warnings


def scan_landing(landing: Path) -> Landing:
    """Snapshot folders (named YYYY-MM-DD, or YYYYMMDD) of a landing directory.

    A folder whose name is no date (`latest`, `2026-02-30`) is listed in `ignored`; two
    folders naming one date (`2026-11-16` and `20261116`) are a file-level error: which one
    is the export of that day is a person's call.
    """
    if not landing.is_dir():
        raise FileLevelError(f"{landing}: landing directory does not exist")
    snapshots: dict[date, Path] = {}
    ignored = []
    for child in sorted(landing.iterdir()):
        if child.name.startswith("."):
            continue
        match = _SNAPSHOT_NAME.fullmatch(child.name) if child.is_dir() else None
        try:
            snapshot_date = date(*(int(part) for part in match.groups())) if match else None
        except ValueError:
            snapshot_date = None
        if snapshot_date is None:
            ignored.append(child.name + ("/" if child.is_dir() else ""))
            continue
        if snapshot_date in snapshots:
            raise FileLevelError(
                f"{landing}: two folders name snapshot {snapshot_date}: "
                f"{snapshots[snapshot_date].name} and {child.name}; keep one"
            )
        snapshots[snapshot_date] = child
    if not snapshots:
        raise FileLevelError(
            f"{landing}: no snapshot folders (expected sub-folders named YYYY-MM-DD)"
        )
    files = {snapshot_date: snapshot_files(folder) for snapshot_date, folder in snapshots.items()}
    for snapshot_date, folder in snapshots.items():
        if not files[snapshot_date].files:
            raise FileLevelError(f"{folder}: snapshot {snapshot_date} holds no CRM export files")
    return Landing(landing, dict(sorted(snapshots.items())), files, ignored)


def list_snapshots(landing: Path) -> dict[date, Path]:
    """Snapshot folders of a landing directory, oldest first (see scan_landing)."""
    return scan_landing(landing).snapshots
