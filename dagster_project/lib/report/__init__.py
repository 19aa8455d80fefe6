"""The finance report: one self-contained HTML file of charts over a published warehouse.

It reads only the public marts (SPEC 5) of a warehouse opened read-only (queries), draws
the charts (charts) and tables (tables), and writes one page with plotly.js inlined (page),
so the file opens in a browser with no network. A mart with no rows yet (a new company)
gets a note in place of its chart. Plain Python, no Dagster import.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

from dagster_project.lib.outputs import (
    OutputPathError,
    check_output_path,
    describe_os_error,
    landing_folders,
    write_atomically,
)
from dagster_project.lib.report import page, queries
from dagster_project.lib.report.catalogue import CHARTS, MARTS, TABLES, Chart, Table
from dagster_project.lib.report.context import ReportError
from dagster_project.lib.report.tables import section, table_html, unavailable

__all__ = [
    "CHARTS",
    "MARTS",
    "TABLES",
    "Chart",
    "ReportError",
    "Table",
    "report_path",
    "write_report",
]

T = TypeVar("T")

# What a chart or a table may raise on data it did not expect: a note and a warning.
DRAWING_ERRORS = (duckdb.Error, ArithmeticError, TypeError, ValueError)


def report_path(warehouse: Path) -> Path:
    """The finance report beside the warehouse: warehouse.duckdb -> warehouse.report.html."""
    return warehouse.with_name(warehouse.stem + ".report.html")


def write_report(warehouse: Path, out: Path, *, warnings: list[str] | None = None) -> list[str]:
    """Write the finance report of `warehouse` to `out`; return the titles of the charts drawn.

    The as-of date and the currency of the labels are the warehouse's own (marts.build_info),
    whoever built it and with which settings. A chart that cannot be drawn gets a note in
    its place and a line in `warnings`: the report is still written (SPEC 6).
    """
    warehouse, out = Path(warehouse), Path(out)
    if not warehouse.is_file():
        raise ReportError(f"warehouse {warehouse} does not exist; run recurwise demo first")
    if not out.parent.is_dir():
        raise ReportError(f"folder {out.parent} for the report does not exist")
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        raise ReportError(f"cannot open {warehouse} as a DuckDB warehouse: {exc}") from None
    problems = warnings if warnings is not None else []
    with con:
        try:
            check_output_path(out, warehouse, landing_folders(con))
        except OutputPathError as exc:
            raise ReportError(str(exc)) from None
        queries.check_warehouse(con, warehouse, MARTS)
        ctx = queries.read_context(con)
        drawn: list[str] = []
        sections = [_chart_section(con, ctx, chart, drawn, problems) for chart in CHARTS]
        sections += [_table_section(con, ctx, table, problems) for table in TABLES]
        text = page.render(warehouse, ctx, page.key_figures(con, ctx), sections)
    try:
        write_atomically(out, lambda partial: partial.write_text(text, encoding="utf-8"))
    except OSError as exc:
        raise ReportError(f"cannot write {out}: {describe_os_error(exc)}") from None
    return drawn


def _chart_section(con, ctx, chart: Chart, drawn: list[str], problems: list[str]) -> str:
    """The chart's section; its title joins `drawn`, or why it could not, `problems`."""

    def draw():
        rows = chart.read(con, ctx)
        return chart.draw(rows, ctx) if rows else None

    figure, reason = _attempt(draw, f"chart {chart.title!r}", "drawn", problems)
    if figure is not None:
        drawn.append(chart.title)
    return page.chart_html(chart, figure, reason)


def _table_section(con, ctx, table: Table, problems: list[str]) -> str:
    """The table's section, or a note of why it could not be filled (and a problem)."""

    def fill():
        rows = table.read(con, ctx)
        return table.cells(rows, ctx) if rows else None

    cells, reason = _attempt(fill, f"table {table.title!r}", "filled", problems)
    if reason:
        return section("table", table.title, table.description, unavailable(reason))
    return table_html(table.title, table.description, table.empty, cells)


def _attempt(
    make: Callable[[], T], what: str, done: str, problems: list[str]
) -> tuple[T | None, str | None]:
    """make()'s result and None, or None and why it failed (a line in `problems` too)."""
    try:
        return make(), None
    except DRAWING_ERRORS as exc:
        reason = f"it could not be {done} ({type(exc).__name__}: {exc})"
        problems.append(f"finance report: {what} {reason}")
        return None, reason
