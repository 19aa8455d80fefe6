"""Reconciliations of the finance-facing marts, as a list of small named rules.

Keys and row rules (unique keys, MRR not negative, dates in order, weighted MRR within
MRR) are dbt data tests beside their model, not rules here: one owner per check. What
stays here reads more than one row of a mart, or another table: identities (opening +
movements = closing, parts sum to the total) and facts of the source files. Each rule's
SQL is sql/<name>.sql. Error marts get warnings: their rows never stop the publish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dagster_project.lib.expectations.rules import Rule, asset_of, rule_sql, warning_rows_rule
from dagster_project.lib.expectations.suites import reconciliation_suite


@dataclass(frozen=True)
class Reconciliation:
    """A blocking rule of one mart whose SQL is sql/<name>.sql. Its frame's columns are
    judged by `zero` (column → what it means; must be 0), `tolerance` (difference →
    (tolerance column, what it means)) and `minimums` (column → (minimum, what it means))."""

    table: str
    name: str
    description: str
    index_columns: tuple[str, ...]
    reads: tuple[str, ...] = ()
    zero: dict[str, str] | None = None
    tolerance: dict[str, tuple[str, str]] | None = None
    minimums: dict[str, tuple[float, str]] | None = None

    def rule(self) -> Rule:
        """The rule the asset checks run."""
        return Rule(
            asset=asset_of(self.table),
            name=self.name,
            description=self.description,
            sql=rule_sql(self.name),
            suite=self._suite(),
            index_columns=self.index_columns,
            reads=tuple(asset_of(table) for table in self.reads),
        )

    def _suite(self) -> Callable:
        name = f"{self.table}.{self.name}"
        return lambda: reconciliation_suite(name, self.zero, self.tolerance, self.minimums)


RECONCILIATIONS = (
    Reconciliation(
        "marts.fct_opportunities",
        "mrr_and_tcv_match_line_items",
        "Opportunity MRR and TCV = the sums over its lines in fct_line_items (SPEC 4.5).",
        index_columns=("opportunity_id",),
        reads=("marts.fct_line_items",),
        zero={
            "mrr_difference": "opportunity MRR = sum of its lines' MRR",
            "tcv_difference": "opportunity TCV = sum of its lines' TCV",
        },
    ),
    Reconciliation(
        "marts.fct_line_items",
        "mrr_only_on_recurring_lines",
        "Lines whose product is One-Time or Usage in the current Product2 file have MRR 0; "
        "a line in schedule_errors has MRR and TCV 0 (SPEC 4.5).",
        index_columns=("line_item_id", "source_charge_type", "in_schedule_errors"),
        reads=("staging.stg_crm__products", "marts.schedule_errors"),
        zero={
            "unexpected_mrr": "MRR 0 on one-time, usage and schedule-error lines",
            "unexpected_tcv": "TCV 0 on schedule-error lines",
        },
    ),
    Reconciliation(
        "marts.fct_schedules",
        "installments_sum_to_line_totals",
        "Per line and schedule type, installments sum exactly to the line total: quantity "
        "rows to scheduled_quantity, revenue rows to TCV, in corporate and original "
        "currency (SPEC 4.4). Aggregated per line in SQL.",
        index_columns=("line_item_id", "schedule_type"),
        reads=("marts.fct_line_items",),
        zero={
            "unmatched": "a line with a schedule has rows, and rows belong to a schedule",
            "difference": "installments sum to the line total",
            "difference_original": "revenue installments sum to the line total in the "
            "opportunity's currency",
        },
    ),
    Reconciliation(
        "marts.fct_schedules",
        "entered_schedules_match_the_source",
        "Entered schedules are authoritative (SPEC 4.4): per line and type, the rows not "
        "generated add up to the current OpportunityLineItemSchedule file's rows (a Both "
        "row counts for each type) in the opportunity's currency, row for row.",
        index_columns=("line_item_id", "schedule_type", "source_rows", "entered_rows"),
        reads=(
            "staging.stg_crm__opportunity_line_item_schedules",
            "marts.fct_line_items",
            "marts.schedule_errors",
        ),
        zero={"missing_rows": "every source schedule row has its installment"},
        tolerance={
            "abs_difference": (
                "rounding_tolerance",
                "entered installments add up to the source file's schedule rows",
            )
        },
    ),
    Reconciliation(
        "marts.fct_opportunity_splits",
        "validated_splits_sum_to_opportunity_totals",
        "For total-validated split types whose percentages add up to 100, the "
        "opportunity's split MRR (or amount) adds up to its MRR (or amount) to the cent; "
        "every opportunity has rows for every such type. Percentages not adding up to 100 "
        "are split_errors (a warning).",
        index_columns=("opportunity_id", "split_type", "split_count", "difference"),
        reads=("marts.fct_opportunities",),
        tolerance={
            "abs_difference": (
                "rounding_tolerance",
                "validated splits add up to the opportunity's MRR or amount",
            )
        },
    ),
    Reconciliation(
        "marts.fct_mrr_forecast_by_close_month",
        "totals_match_opportunities",
        "Per close month, forecast MRR and TCV over all categories and owners = the "
        "opportunities' MRR and TCV (splits share, never add or lose), within half a cent "
        "per forecast row.",
        index_columns=("close_month",),
        reads=("marts.fct_opportunities",),
        tolerance={
            "mrr_difference": ("rounding_tolerance", "forecast MRR = opportunities' MRR"),
            "tcv_difference": ("rounding_tolerance", "forecast TCV = opportunities' TCV"),
        },
    ),
    Reconciliation(
        "marts.fct_subscription_items",
        "versions_do_not_overlap",
        "Within (subscription_id, order_no), an item version starts after the previous "
        "one ended (an overlap counts its MRR twice); an item ends on or after the day "
        "before it starts.",
        index_columns=(
            "subscription_id",
            "order_no",
            "subscription_item_id",
            "end_date",
            "next_item_id",
            "next_start_date",
            "start_date",
        ),
        minimums={
            "gap_days": (1, "next version of the order number starts after this one"),
            "length_days": (0, "end_date >= start_date - 1 day"),
        },
    ),
    Reconciliation(
        "marts.fct_mrr_monthly",
        "mrr_changes_add_up_to_mrr",
        "Per customer, opening + movements = closing: the running sum of its mrr_change "
        "from its first month is its mrr in every month, so no change is lost or counted "
        "twice between months, churns and reactivations (SPEC 4.9).",
        index_columns=("master_account_id", "month"),
        zero={"difference": "the customer's MRR changes so far add up to its MRR"},
    ),
    Reconciliation(
        "marts.fct_mrr_movements",
        "movements_reconcile_month_to_month",
        "A month starts with the MRR the previous month ended with; opening + the six "
        "movements = closing, and at current rates opening + movements + fx_impact = "
        "closing (SPEC 4.9, 4.13); net new MRR = the movements; each movement row and the "
        "ending totals match fct_mrr_monthly.",
        index_columns=("month",),
        reads=("marts.fct_mrr_monthly",),
        zero={
            "starting_difference": "starting MRR = previous month's ending MRR",
            "starting_fx_difference": "the same at current rates",
            "movements_difference": "previous ending MRR + movements = ending MRR",
            "fx_movements_difference": "at current rates: previous ending + movements + "
            "fx_impact = ending",
            "net_new_difference": "net new MRR = the sum of the movements",
            "ending_mismatch": "ending MRR = fct_mrr_monthly's total",
            "monthly_mismatch": "movement rows match fct_mrr_monthly",
        },
    ),
    Reconciliation(
        "marts.fct_mrr_bridge_detail",
        "bridge_sums_to_mrr_change",
        "Per customer and month the products' MRR changes add up exactly to "
        "fct_mrr_monthly's mrr_change, each row's new_product + removed_product + quantity "
        "+ price = its mrr_change, and every row is a customer-month of fct_mrr_monthly "
        "(SPEC 4.13).",
        index_columns=("master_account_id", "month"),
        reads=("marts.fct_mrr_monthly",),
        zero={
            "change_difference": "products' changes add up to the customer's change",
            "parts_difference": "new + removed + quantity + price = the change",
            "rows_without_customer_month": "rows belong to a customer-month",
        },
    ),
    Reconciliation(
        "marts.fct_pipeline_waterfall",
        "waterfall_reconciles",
        "Per close month, category and owner, opening + every movement = closing to the "
        "cent, in amount and MRR; consecutive snapshot pairs chain (a pair closes where "
        "the next one opens) and a week's or month's opening is the opening of its first "
        "snapshot (SPEC 4.12).",
        index_columns=(
            "identity",
            "grain",
            "from_snapshot_date",
            "to_snapshot_date",
            "close_month",
            "forecast_category",
            "owner_id",
        ),
        zero={
            "amount_difference": "amount: opening + movements = closing, pairs chain",
            "mrr_difference": "MRR: opening + movements = closing, pairs chain",
        },
    ),
    Reconciliation(
        "marts.fct_restatements",
        "restatements_explain_month_close",
        "Per closed month and figure, the restated records' differences add up to "
        "fct_month_close's restated - reported to the cent, and no record belongs to a "
        "month or figure fct_month_close lacks (SPEC 4.12).",
        index_columns=("month", "metric", "month_close_difference"),
        reads=("marts.fct_month_close",),
        zero={
            "unexplained": "restatements add up to the month close's difference",
            "orphan_records": "every restatement belongs to a closed month's figure",
        },
    ),
)


def _warnings() -> list[Rule]:
    return [
        warning_rows_rule(
            "marts.fct_opportunities",
            "fx_rates_found",
            ["opportunity_id", "currency_iso_code", "close_date"],
            "foreign-currency opportunities without a conversion rate on their close date",
            consequence="the nearest rate (or 1) was used instead",
            condition="is_fx_rate_missing",
        ),
        warning_rows_rule(
            "marts.split_errors",
            "no_split_errors",
            ["opportunity_id", "message"],
            "opportunities whose total-validated splits do not add up to 100%",
        ),
        warning_rows_rule(
            "marts.schedule_errors",
            "no_schedule_errors",
            ["line_item_id", "message"],
            "lines with a schedule Salesforce would refuse (installments outside 1..150)",
        ),
        warning_rows_rule(
            "marts.subscription_build_errors",
            "no_subscription_build_errors",
            ["opportunity_id", "message"],
            "source opportunities the subscription builder skipped",
        ),
    ]


def mart_rules() -> list[Rule]:
    """Checks of the finance-facing marts; blocking ones stop the publish."""
    return [r.rule() for r in RECONCILIATIONS] + _warnings()
