"""An independent RFC 4180 record scan of a CSV export, before DuckDB reads it.

Ingest does not take the loading reader's word for how many records a file holds
(SPEC 3): this scan, with Python's own CSV parser, counts them, and the load must
account for every one (loaded + rejected = records). It also finds what would make any
reader lose rows, and keeps it away from DuckDB:

- a stray or unclosed quote: a quoted field that runs across several lines of the file
  whose lines read as records of their own (at least two, and half of them), or runs past
  the longest field Salesforce can hold (a long text area, 131,072 characters). Without
  this, the rest of the file becomes one value. The line where the quote opened is
  rejected and reading resumes on the next line, so only that line is lost (a quote that
  swallows just the next line cannot be told from a real two-line value: that record is
  rejected as one, with both lines);
- a field longer than Salesforce allows (the record is rejected, not the file);
- a record with too many or too few fields, a line that does not decode in the export's
  encoding (rejected with their line);
- blank lines (not records: skipped).

A clean UTF-8 file (no value spanning three lines or more, nothing to reject) is only
counted (one streaming pass, which ingest runs beside DuckDB's read). Any other file is
rewritten as UTF-8 without the rejected records, and DuckDB reads that copy: its records
are then exactly the scan's kept ones, one per record number.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Salesforce's longest text field (Long Text Area, Rich Text Area): 131,072 characters.
MAX_FIELD_CHARS = 131_072
# A quoted value shown in a reject reason is cut to this many characters.
SHOWN_CHARS = 60

ENCODINGS = {
    "utf-8": "utf-8",
    "utf-16": "utf-16",
    "iso-8859-1": "latin-1",
    "latin-1": "latin-1",
    "windows-1252": "cp1252",
    "cp1252": "cp1252",
}

# What a byte that does not decode becomes with errors="surrogateescape".
_UNDECODED = re.compile("[\udc80-\udcff]")


class ScanError(Exception):
    """The file cannot be scanned at all (it cannot be opened, or has no header)."""


@dataclass(frozen=True)
class ScanReject:
    line_number: int  # physical line in the file (header = line 1)
    raw_values: str  # the start of the line, cut to SHOWN_CHARS
    reason: str


@dataclass
class ScanResult:
    header: list[str]
    records: int = 0  # data records kept for the reader (header, blank lines, rejects excluded)
    rejects: list[ScanReject] = field(default_factory=list)
    # Physical line of kept record k (1-based) = k + offset of the last break at or before k;
    # (1, 1) = record 1 on line 2. A break follows every multi-line record and blank line.
    line_breaks: list[tuple[int, int]] = field(default_factory=lambda: [(1, 1)])
    clean: bool = True  # DuckDB may read the original file (no reject, no blank line, UTF-8)

    @property
    def total(self) -> int:
        """Records of the file: kept + rejected."""
        return self.records + len(self.rejects)


def python_encoding(name: str) -> str:
    """The Python codec for a setting value (utf-8, utf-16, iso-8859-1, windows-1252)."""
    try:
        return ENCODINGS[name.strip().lower()]
    except KeyError:
        raise ValueError(
            f"export_encoding {name!r} is not one of {', '.join(sorted(ENCODINGS))}"
        ) from None


def detect_encoding(path: Path, configured: str) -> str:
    """A byte-order mark decides (UTF-8 or UTF-16); otherwise the configured encoding."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig" if configured == "utf-8" else configured


def shown(text: str) -> str:
    """A value as a reject reason quotes it: one line, cut to SHOWN_CHARS characters."""
    one_line = text.replace("\r", " ").replace("\n", " ")
    return one_line if len(one_line) <= SHOWN_CHARS else one_line[:SHOWN_CHARS] + "…"


def _open(path: Path, encoding: str):
    return path.open(encoding=encoding, errors="surrogateescape", newline="")


def read_header(handle) -> list[str]:
    """The header record of an open CSV file, or a ScanError."""
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ScanError(f"the header line cannot be read ({exc})") from None
    if not header or not any(name.strip() for name in header):
        raise ScanError("the header line is empty")
    if any(_UNDECODED.search(name) for name in header):
        raise ScanError("the header line does not decode in the export's encoding")
    return header


def scan(path: Path, encoding: str) -> ScanResult:
    """Count the records of a file; `clean` False when it must be rewritten (see module)."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    with _open(path, encoding) as handle:
        header = read_header(handle)
        result = ScanResult(header)
        if encoding not in ("utf-8-sig", "utf-8"):
            result.clean = False
            return result
        reader = csv.reader(handle)
        width, previous_line = len(header), 1
        try:
            for row in reader:
                if len(row) != width:
                    # A blank line or a bad record (a stray quote among them): rewrite() decides.
                    result.clean = False
                    return result
                result.records += 1
                line = reader.line_num + 1  # the header's line was read by another reader
                if line - previous_line > 2:
                    result.clean = False  # a value over three lines or more: rewrite() decides
                    return result
                if line - previous_line != 1:  # a value with a line break: later lines shift
                    result.line_breaks.append((result.records + 1, line - result.records))
                previous_line = line
        except csv.Error:
            result.clean = False
    return result


def rewrite(path: Path, encoding: str, out: Path) -> ScanResult:
    """Scan record by record and write the kept records to `out` as UTF-8 (see module)."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    with _open(path, encoding) as handle, out.open("w", encoding="utf-8", newline="") as sink:
        header = read_header(handle)
        result = ScanResult(header, clean=False, line_breaks=[])
        sink.write(",".join(_quote(name) for name in header) + "\n")
        lines = _Lines(handle, first_line=2)
        width = len(header)
        while True:
            reader = csv.reader(lines)
            try:
                for row in reader:
                    start, raw = lines.take()
                    if not row:
                        continue  # a blank line is not a record
                    problem = _record_problem(row, raw, width, encoding)
                    if problem is None:
                        _keep(result, start, raw, sink)
                    elif problem.startswith("stray quote"):
                        # The quote swallowed the lines after its own: reject that line only
                        # and read the others again.
                        result.rejects.append(ScanReject(start, shown(raw[0]), problem))
                        lines.push_back(start + 1, raw[1:])
                        break
                    else:
                        result.rejects.append(ScanReject(start, shown("".join(raw)), problem))
                else:
                    return result
            except csv.Error as exc:
                start, raw = lines.take()
                too_long = "field larger than field limit" in str(exc)
                if len(raw) > 1 and too_long:
                    reason = (
                        "stray quote: a quoted field opened on this line runs on for more "
                        f"than {MAX_FIELD_CHARS:,} characters"
                    )
                    lines.push_back(start + 1, raw[1:])
                elif too_long:
                    reason = (
                        f"a field longer than {MAX_FIELD_CHARS:,} characters, more than "
                        "Salesforce stores in one field"
                    )
                else:
                    reason = f"not a CSV record ({exc})"
                result.rejects.append(ScanReject(start, shown(raw[0] if raw else ""), reason))


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _keep(result: ScanResult, start: int, raw: list[str], sink) -> None:
    result.records += 1
    offset = start - result.records
    if not result.line_breaks or result.line_breaks[-1][1] != offset:
        result.line_breaks.append((result.records, offset))
    # One line ending for the whole copy (the reader detects one per file).
    sink.write("".join(raw).rstrip("\r\n") + "\n")


def _record_problem(row: list[str], raw: list[str], width: int, encoding: str) -> str | None:
    if any(_UNDECODED.search(line) for line in raw):
        return f"the line does not decode as {encoding.removesuffix('-sig')}"
    if len(raw) > 2 and _swallowed_records(raw[1:], width):
        return (
            f"stray quote: a quoted field opened on this line runs across {len(raw)} lines "
            "that read as records of their own"
        )
    if len(row) == width:
        return None
    kind = "too many" if len(row) > width else "too few"
    if "".join(raw).count('"') % 2:
        return f"unclosed quote: {len(row)} fields, the header has {width}"
    return f"{kind} fields: {len(row)}, the header has {width}"


def _swallowed_records(lines: list[str], width: int) -> bool:
    """True when the lines a quoted field ran across read as records of their own: at least
    two, and at least half of them (a real multi-line value rarely looks like that)."""
    good = sum(len(r) == width for r in csv.reader(lines))
    return good >= 2 and 2 * good >= len(lines)


class _Lines:
    """The file's lines for csv.reader, remembering which lines the current record used,
    with lines put back to be read again after a stray quote."""

    def __init__(self, handle, first_line: int) -> None:
        self._handle = iter(handle)
        self._pending: list[str] = []
        self._next_line = first_line  # physical number of the next line handed out
        self._record_start = first_line
        self._record: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self._pending.pop() if self._pending else next(self._handle)
        self._record.append(line)
        self._next_line += 1
        return line

    def take(self) -> tuple[int, list[str]]:
        """The first line number and the lines of the record just read."""
        start, raw = self._record_start, self._record
        self._record_start, self._record = self._next_line, []
        return start, raw

    def push_back(self, first_line: int, lines: list[str]) -> None:
        self._pending.extend(reversed(lines))
        self._next_line = self._record_start = first_line
