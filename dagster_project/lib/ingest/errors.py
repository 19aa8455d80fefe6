"""What ingest refuses: a file it cannot load, a warehouse in a layout it does not read."""

from __future__ import annotations


class FileLevelError(Exception):
    """A whole file cannot be loaded (the message names the file and, where known, the column)."""


class OldRawLayoutError(Exception):
    """The warehouse keeps raw tables in the layout before versioned storage (every
    snapshot's rows in raw.<object>), which this version does not convert."""
