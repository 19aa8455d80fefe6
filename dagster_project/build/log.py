"""The build log beside the warehouse: dbt's own output goes there, the console shows
progress only."""

import io
from pathlib import Path

from dagster_project.lib.outputs import describe_os_error


def build_log_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".build.log")


class BuildLog(io.TextIOWrapper):
    """The build log: a full disk or a lost file ends the log, not the build's message.

    Its text goes nowhere once a write fails (dbt's streamed output would otherwise raise
    inside dagster-dbt and print a traceback); `lost` says why, for the failure message.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path.open("wb"), encoding="utf-8", line_buffering=False)
        self.lost: str | None = None

    def write(self, text: str) -> int:
        if self.lost is None:
            try:
                return super().write(text)
            except OSError as exc:
                self.lost = describe_os_error(exc)
        return len(text)

    def flush(self) -> None:
        if self.lost is None:
            try:
                super().flush()
            except OSError as exc:
                self.lost = describe_os_error(exc)

    def close(self) -> None:
        try:
            super().close()
        except OSError as exc:
            self.lost = self.lost or describe_os_error(exc)
