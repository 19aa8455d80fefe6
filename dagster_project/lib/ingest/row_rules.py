"""SQL that types a field's text and says, in words, why a row is rejected.

Shapes are checked before values are parsed: DuckDB alone would read 'infinity' as a date
and 12.5 as the whole number 13."""

from __future__ import annotations

import duckdb

from ..crm_schema import TYPE_WORDS, CrmObject, Field
from ..csv_scan import SHOWN_CHARS
from ..raw_store import quote_ident, quote_literal


def id_expression(value: str) -> str:
    """SQL for a Salesforce Id: 15 characters made 18 (the case-safe suffix Salesforce
    appends), the empty lookup 000000000000000AAA null."""
    chunks = []
    for chunk in range(3):
        bits = " + ".join(
            f"(case when substr({value}, {chunk * 5 + bit + 1}, 1) between 'A' and 'Z' "
            f"then {1 << bit} else 0 end)"
            for bit in range(5)
        )
        chunks.append(f"substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', {bits} + 1, 1)")
    return (
        f"case when {value} in ('000000000000000AAA', '000000000000000') then null "
        f"when length({value}) = 15 and regexp_full_match({value}, '[0-9A-Za-z]{{15}}') "
        f"then {value} || {' || '.join(chunks)} else {value} end"
    )


# Shapes a value must have before it is parsed: DuckDB alone reads 'infinity' and 'epoch'
# as dates and 12.5 as the whole number 13.
_DATE_SHAPE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T]00:00(:00(\.0+)?)?(Z|[+-]00:?00)?)?"
_DATETIME_SHAPE = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?"
    r" ?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?"
)
_WHOLE_SHAPE = r"[+-]?[0-9]+(\.0*)?|[+-]?[0-9]+(\.[0-9]+)?[eE]\+?[0-9]+"


def typed_expression(f: Field, source: str) -> str:
    """SQL turning the text value of a field into its declared type (null when invalid).
    Date-times without an offset are read in the session's time zone: the org's."""
    col = f"nullif(trim({source}), '')"
    if f.type == "text":
        return source
    if f.type == "id":
        return id_expression(col)
    if f.type == "bool":
        # Some tools write an unchecked checkbox as an empty field (SPEC 2.1).
        value = f"lower({col})" if f.empty_is_unset else f"coalesce(lower({col}), 'false')"
        return (
            f"case {value} when 'true' then true when '1' then true "
            f"when 'false' then false when '0' then false end"
        )
    if f.type == "date":
        # The Data Export writes dates as 2024-02-05 00:00:00.
        return (
            f"case when regexp_full_match({col}, '{_DATE_SHAPE}') "
            f"then try_strptime(left({col}, 10), '%Y-%m-%d')::date end"
        )
    if f.type == "datetime":
        return (
            f"case when regexp_full_match({col}, '{_DATETIME_SHAPE}') "
            f"then timezone('UTC', try_cast({col} as timestamptz)) end"
        )
    if f.type == "integer":
        # A whole number may be exported as 12.0 or 8.0E7; 12.5 is not one.
        return (
            f"case when regexp_full_match({col}, '{_WHOLE_SHAPE}') "
            f"and try_cast({col} as decimal(38, 10)) = floor(try_cast({col} as decimal(38, 10))) "
            f"then try_cast(try_cast({col} as decimal(38, 10)) as integer) end"
        )
    return f"try_cast({col} as {f.sql_type})"


def shown_sql(value: str) -> str:
    """A value as a reject reason quotes it, in SQL: cut to csv_scan.SHOWN_CHARS."""
    return (
        f"(case when length({value}) > {SHOWN_CHARS} "
        f"then left({value}, {SHOWN_CHARS}) || '…' else {value} end)"
    )


def problems_expression(obj: CrmObject, present: set[str]) -> str:
    """SQL list of reason strings for one row of `typed` (empty list = the row is fine)."""
    checks = []
    for f in obj.fields:
        if f.name not in present:
            continue
        raw = f"src.{quote_ident(f.name)}"
        blank = f"nullif(trim({raw}), '') is null"
        value = f"typed.{quote_ident(f.name)}"
        # An empty checkbox is false, never missing; an empty lookup (000000000000000AAA)
        # is missing.
        if f.required and f.type != "bool":
            missing = f"{value} is null" if f.type == "id" else blank
            checks.append(f"case when {missing} then 'missing required field {f.name}' end")
        if f.type not in ("text", "id"):
            checks.append(
                f"case when not ({blank}) and {value} is null then "
                f"'{f.name} ' || {shown_sql(raw)} || ' is not {TYPE_WORDS[f.type]}' end"
            )
        if f.allowed:
            allowed = ", ".join(quote_literal(v) for v in f.allowed)
            checks.append(
                f"case when not ({blank}) and trim({raw}) not in ({allowed}) then "
                f"'{f.name} ' || {shown_sql(raw)} || ' is not one of {', '.join(f.allowed)}' end"
            )
    if obj.name == "OpportunityLineItem" and "PricebookEntryId" in present:
        entry = 'src."PricebookEntryId"'
        checks.append(
            f"case when typed.\"Product2Id\" is null and nullif(trim({entry}), '') is not null "
            f"then 'PricebookEntryId ' || {shown_sql(entry)} "
            "|| ' is not in this snapshot''s PricebookEntry file' end"
        )
    if obj.key:
        key = f"typed.{quote_ident(obj.key)}"
        checks.append(
            f"case when dup_count > 1 then 'duplicate {obj.key} ' || {key} "
            f"|| ' in this file (' || dup_count || ' rows); all copies rejected' end"
        )
    return "list_filter([" + ", ".join(checks) + "], lambda x: x is not null)" if checks else "[]"


def check_rows(
    con: duckdb.DuckDBPyConnection,
    obj: CrmObject,
    present: set[str],
    extras: tuple[str, ...],
    org_time_zone: str,
) -> None:
    """checked_rows: every read row typed, with its file line and the list of reasons it is
    rejected (empty for a row that loads)."""
    typed_columns = ", ".join(
        f"{typed_expression(f, 'src.' + quote_ident(f.name))} as {quote_ident(f.name)}"
        for f in obj.fields
        if f.name in present
    )
    key_window = f"count(*) over (partition by {quote_ident(obj.key)})" if obj.key else "1"
    extra_columns = "".join(f", src.{quote_ident(n)}" for n in extras)
    typed_names = ", ".join(f"typed.{quote_ident(f.name)}" for f in obj.fields if f.name in present)
    time_zone = con.execute("select current_setting('TimeZone')").fetchone()[0]
    # Date-times without an offset are in the org's time zone, never the machine's.
    con.execute(f"set TimeZone = {quote_literal(org_time_zone)}")
    try:
        con.execute(
            f"""
            create or replace temp table checked_rows as
            with typed as (
                select src._ordinal, {typed_columns} from file_rows src
            ),
            keyed as (
                select *, {key_window} as dup_count from typed
            )
            select {typed_names}{extra_columns}, src._ordinal, l._line_number,
                   {problems_expression(obj, present)} as _problems
            from keyed typed
            join file_rows src on src._ordinal = typed._ordinal
            join row_lines l on l._ordinal = typed._ordinal
            """
        )
    finally:
        con.execute(f"set TimeZone = {quote_literal(time_zone)}")
