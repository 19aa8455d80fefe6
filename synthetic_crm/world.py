"""The world: every record the CRM ever holds, built once, column by column with numpy.

Every record gets the day it was created and, where it happens, the day it is deleted;
every field that moves during the snapshot window gets its before/after value and the day
it flips. `frames` hold each object's fixed columns (one row per record ever), `arrays`
the moving fields and existence days that the snapshot of a day evaluates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from synthetic_crm import accounts, catalog, lifecycle, line_items, quote_to_cash
from synthetic_crm.accounts import COUNTRIES
from synthetic_crm.catalog import CURRENCIES, FIRST_NAMES, LAST_NAMES
from synthetic_crm.lifecycle import DEAL_LABEL, OPPORTUNITY_TYPE, ORDER_TYPE, USE_CASES
from synthetic_crm.sampling import gather
from synthetic_crm.timeline import Calendar


@dataclass
class World:
    """Every record of the CRM's history, and the calendar of its snapshots."""

    calendar: Calendar
    frames: dict[str, pl.DataFrame]  # static raw columns per object, one row per record ever
    arrays: dict[str, dict[str, np.ndarray]]  # moving fields and existence per object


def build_world(rng: np.random.Generator, account_count: int, calendar: Calendar) -> World:
    """Every record of the CRM's history; the draw order is fixed, so a seed fixes it all."""
    team = catalog.users(rng, account_count)
    rates = catalog.conversion_rates(rng, calendar)
    acc = accounts.accounts(rng, account_count, calendar, team)
    opp = lifecycle.opportunities(rng, lifecycle.deals(rng, acc, calendar), acc, team, calendar)
    lines = line_items.line_items(rng, opp, calendar, rates["latest_rates"])
    lifecycle.lose_and_reopen(rng, calendar, opp, lines)
    schedules = line_items.line_schedules(rng, lines, opp)
    splits = lifecycle.splits(rng, opp, team)
    quotes = quote_to_cash.quotes(rng, opp)
    contracts = quote_to_cash.contracts(rng, opp, calendar)
    orders = quote_to_cash.orders(rng, opp, contracts, account_count, calendar)
    items = quote_to_cash.order_items(rng, opp, lines, orders)
    quote_to_cash.delete_superseded_quotes(rng, calendar, quotes, opp)

    names = accounts.account_frame(acc)
    frames = {
        "User": _user_frame(team),
        "Account": _account_records(names, acc),
        "Opportunity": _opportunity_frame(opp, names["short_name"]),
        "OpportunityLineItem": _line_item_frame(lines),
        "OpportunityLineItemSchedule": _schedule_frame(schedules),
        "OpportunitySplit": _split_frame(splits),
        "Quote": _quote_frame(quotes),
        "Order": _order_frame(orders),
        "OrderItem": _order_item_frame(items),
        "Contract": _contract_frame(contracts),
        "Product2": catalog.product_frame(),
        "OpportunitySplitType": pl.DataFrame(
            {
                "row": [0, 1],
                "DeveloperName": ["MRR", "Overlay"],
                "SplitField": ["MRR", "Amount"],
                "IsTotalValidated": [True, False],
            }
        ),
    }
    arrays = {
        "Account": acc,
        "Opportunity": opp,
        "OpportunityLineItem": lines,
        "OpportunityLineItemSchedule": schedules,
        "Quote": quotes,
        "Order": orders,
        "OrderItem": items,
        "Contract": contracts,
        "DatedConversionRate": rates,
    }
    return World(calendar=calendar, frames=frames, arrays=arrays)


def _user_frame(team: dict) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": np.arange(team["is_active"].size),
            "Name": gather(FIRST_NAMES, team["first"]) + " " + gather(LAST_NAMES, team["last"]),
            "IsActive": team["is_active"],
        }
    )


def _account_records(names: pl.DataFrame, acc: dict) -> pl.DataFrame:
    return names.drop("short_name").with_columns(
        BillingCountry=gather(
            COUNTRIES + (None,), np.where(acc["has_country"], acc["country"], len(COUNTRIES))
        ),
        parent=acc["parent"],
        owner=acc["owner"],
        csm=acc["csm"],
        master=acc["master"],
        IsDeleted=acc["is_deleted"],
        created_ts=acc["created_ts"],
    )


def _opportunity_frame(opp: dict, account_short_name: pl.Series) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": np.arange(opp["kind"].size),
            "account": opp["account"],
            "Name": account_short_name.gather(opp["account"])
            + " - "
            + gather(DEAL_LABEL, opp["kind"]),
            "Type": gather(OPPORTUNITY_TYPE, opp["kind"]),
            "owner": opp["owner"],
            "CurrencyIsoCode": gather(CURRENCIES, opp["currency"]),
            "created_ts": opp["created_ts"],
            "Create_Potential_Subscription__c": opp["potential_subscription"],
            "Use_Case__c": gather(USE_CASES, opp["use_case"]),
            "start": opp["start"],
            "Term_Months__c": np.where(opp["term_empty"], -1, opp["term"]),
        }
    )


def _line_item_frame(lines: dict) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": np.arange(lines["product"].size),
            "opportunity": lines["opportunity"],
            "product": lines["product"],
            "UnitPrice": lines["unit_price"],
            "Discount": lines["discount"],
            "service_date": lines["service_date"],
            "order_no": lines["order_no"],
            "exclude": lines["exclude"],
        }
    )


def _schedule_frame(schedules: dict) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": np.arange(schedules["line"].size),
            "line": schedules["line"],
            "Type": gather(("Revenue", "Quantity", "Both"), schedules["type"]),
            "date": schedules["date"],
            "Quantity": schedules["quantity"],
            "Revenue": schedules["revenue"],
            "Description": gather(
                (None, "Custom schedule agreed with the customer"),
                schedules["described"].astype(np.int64),
            ),
        }
    )


def _split_frame(splits: dict) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": np.arange(splits["opportunity"].size),
            "opportunity": splits["opportunity"],
            "owner": splits["owner"],
            "SplitPercentage": splits["percentage"],
            "split_type": splits["type"],
        }
    )


def _quote_frame(quotes: dict) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": np.arange(quotes["opportunity"].size),
            "opportunity": quotes["opportunity"],
            "created_ts": quotes["created_ts"],
            "IsSyncing": quotes["is_syncing"],
            "expiration": quotes["created_day"] + 30,
        }
    )


def _order_frame(orders: dict) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": np.arange(orders["opportunity"].size),
            "account": orders["account"],
            "opportunity": orders["opportunity"],
            "contract": orders["contract"],
            "Type": gather(ORDER_TYPE, orders["kind"]),
            "effective": orders["effective"],
            "end": orders["end"],
            "created_ts": orders["created_ts"],
        }
    )


def _order_item_frame(items: dict) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": np.arange(items["order"].size),
            "order": items["order"],
            "product": items["product"],
            "Quantity": items["quantity"],
            "UnitPrice": items["unit_price"],
            "service_date": items["service_date"],
            "end": items["end"],
        }
    )


def _contract_frame(contracts: dict) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": np.arange(contracts["account"].size),
            "account": contracts["account"],
            "start": contracts["start"],
            "ContractTerm": contracts["term"],
            "end": contracts["end"],
            "notice": contracts["notice"],
        }
    )
