"""The subscription build filter: a SQL condition over the staged opportunity columns.

Users write it (SPEC 4.8: "a SQL condition over the staged opportunity columns"), so it is
parsed and only a small, safe grammar is let through: column references of
staging.stg_crm__opportunities, literals, comparisons, IN / BETWEEN / IS [NOT] NULL /
LIKE, and AND / OR / NOT with parentheses. Anything else (a second statement, a subquery,
a function call, a column of another table) is refused with a message saying what.
"""

import sqlglot
from sqlglot import expressions as exp
from sqlglot.errors import ParseError

DEFAULT_BUILD_FILTER = "is_won and coalesce(create_potential_subscription, false)"

OPPORTUNITY_COLUMNS = frozenset({
    "opportunity_id", "account_id", "opportunity_name", "stage_name", "close_date", "amount",
    "probability", "forecast_category", "is_closed", "is_won", "type", "owner_id",
    "currency_iso_code", "created_date", "create_potential_subscription", "use_case",
    "start_date", "term_months",
})  # fmt: skip

_ALLOWED = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren,
    exp.And, exp.Or, exp.Not, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
    exp.Is, exp.In, exp.Between, exp.Like, exp.ILike, exp.Neg, exp.Tuple,
    exp.Cast, exp.DataType, exp.Coalesce,
)  # fmt: skip


class BuildFilterError(ValueError):
    """The build filter is not a condition we can run safely."""


def validate_build_filter(condition: str) -> str:
    """Return the condition as DuckDB SQL, or raise BuildFilterError saying what is refused.

    Casts (`close_date >= date '2024-01-01'`) and coalesce over columns are the only
    function-like forms allowed: enough for real filters, nothing that reads or writes.
    """
    text = condition.strip()
    if not text:
        raise BuildFilterError("the build filter is empty")
    try:
        statements = sqlglot.parse(text, read="duckdb")
    except ParseError as exc:
        raise BuildFilterError(
            f"the build filter is not valid SQL: {exc.errors[0]['description']}"
        ) from None
    if len(statements) != 1 or statements[0] is None:
        raise BuildFilterError("the build filter must be one condition, not several statements")
    tree = statements[0]
    for node in tree.walk():
        if not isinstance(node, _ALLOWED):
            raise BuildFilterError(
                f"the build filter may not contain {node.key.upper()} ({node.sql('duckdb')!r}); "
                "use columns of stg_crm__opportunities, literals, comparisons, IN, BETWEEN, "
                "IS NULL, LIKE, AND, OR, NOT"
            )
        if isinstance(node, exp.Column) and (
            node.table or node.name.lower() not in OPPORTUNITY_COLUMNS
        ):
            raise BuildFilterError(
                f"the build filter refers to {node.sql('duckdb')}, which is not a column of "
                f"stg_crm__opportunities ({', '.join(sorted(OPPORTUNITY_COLUMNS))})"
            )
    if isinstance(tree, exp.Literal):
        raise BuildFilterError("the build filter must be a condition, not a bare value")
    return tree.sql("duckdb")
