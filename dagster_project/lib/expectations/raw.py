"""Rules of the raw CRM objects: the as-of snapshot holds only valid rows (blocking) and
ingest rejected none of its rows (a warning). Their SQL follows from the CRM schema."""

from __future__ import annotations

from dagster_project.lib.crm_schema import CrmObject
from dagster_project.lib.expectations.rules import LATEST_SNAPSHOT, Rule
from dagster_project.lib.expectations.suites import no_rows_suite, raw_object_suite
from dagster_project.lib.raw_store import quote_ident, quote_literal, versions_table


def _valid_rows_sql(obj: CrmObject) -> str:
    """The as-of snapshot's rows of `obj`, rows breaking most of its rules first."""
    columns = ", ".join(quote_ident(f.name) for f in obj.fields)
    problems = [f"({quote_ident(c)} is null)::int" for c in obj.required_fields]
    if obj.key:
        problems.append("(_rows_with_key > 1)::int")
    for f in obj.fields:
        if f.allowed:
            allowed = ", ".join(quote_literal(v) for v in f.allowed)
            problems.append(f"coalesce({quote_ident(f.name)} not in ({allowed}), false)::int")
    key_count = (
        f", count(*) over (partition by {quote_ident(obj.key)}) as _rows_with_key"
        if obj.key
        else ""
    )
    order_key = f", {quote_ident(obj.key)}" if obj.key else ""
    return f"""
        with latest as (
            select {columns}, _line_number{key_count}
            from {versions_table(obj)}
            where {LATEST_SNAPSHOT} between _first_snapshot_date and _last_snapshot_date
        )
        select {columns}, _line_number
        from latest
        order by {" + ".join(problems) or "0"} desc{order_key}, _line_number
        limit {{limit}}
    """


def raw_rules(obj: CrmObject) -> list[Rule]:
    """The as-of snapshot of one raw object (the latest on or before the build's as-of
    date): valid rows (blocking), no rejects (warning)."""
    rejects_sql = f"""
        select line_number, reason
        from raw.rejects
        where object_name = {quote_literal(obj.name)} and snapshot_date = {LATEST_SNAPSHOT}
        order by line_number
        limit {{limit}}
    """
    index = ("_line_number", obj.key) if obj.key else ("_line_number",)
    return [
        Rule(
            asset=("raw", obj.table),
            name="latest_snapshot_valid",
            description=(
                f"The as-of snapshot of {obj.name} (the latest on or before the build's "
                "as-of date): required fields filled, "
                + (f"{obj.key} unique, " if obj.key else "")
                + "picklist values known. A bad row here would reach every mart."
            ),
            sql=_valid_rows_sql(obj),
            reads=(("raw", "snapshots"),),
            suite=lambda obj=obj: raw_object_suite(obj),
            index_columns=tuple(c for c in index if c),
        ),
        Rule(
            asset=("raw", obj.table),
            name="latest_snapshot_without_rejects",
            description=(
                f"Rows of the as-of snapshot's {obj.name} file that ingest rejected "
                "(raw.rejects). "
                "Warns only: rejected rows are reported, never fatal (SPEC 3)."
            ),
            sql=rejects_sql,
            reads=(("raw", "snapshots"),),
            suite=lambda obj=obj: no_rows_suite(
                f"raw.{obj.table}.rejects", f"{obj.name} rows rejected in the latest snapshot"
            ),
            index_columns=("line_number", "reason"),
            blocking=False,
        ),
    ]
