"""One snapshot: the records that exist on a day, their moving fields as of that day, in
Salesforce's field names (the writer puts them in header order)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from synthetic_crm.catalog import (
    CLOSED_LOST,
    CLOSED_WON,
    CORPORATE_CURRENCY,
    STAGES,
    stage_defaults,
)
from synthetic_crm.sampling import gather
from synthetic_crm.timeline import NEVER
from synthetic_crm.world import World
from synthetic_crm.writer import as_date, as_datetime, header, optional_int, sf_id

# How far from creation to close an open deal is when it moves up the ladder.
STAGE_THRESHOLDS = [0.25, 0.5, 0.75]
NEGOTIATION = 3  # where a stale deal (past due, never closed) stays


@dataclass(frozen=True)
class _DealsOnDay:
    """Opportunity and line item state on one day, by opportunity (or line) row."""

    present: np.ndarray
    close: np.ndarray
    stage: np.ndarray
    is_closed: np.ndarray
    is_won: np.ndarray
    probability: np.ndarray  # -1 = empty
    forecast_category: np.ndarray  # index into the stage defaults; past its end = empty
    amount: np.ndarray  # NaN = empty
    line_present: np.ndarray
    line_quantity: np.ndarray
    line_total: np.ndarray


def snapshot(world: World, day: int) -> Iterator[tuple[str, pl.DataFrame]]:
    """Each object's rows as exported on `day`."""
    deals = _deals_on_day(world, day)
    yield "Account", _account_rows(world, day)
    yield "Product2", _product_rows(world)
    yield "Opportunity", _opportunity_rows(world, deals)
    yield "OpportunityLineItem", _line_item_rows(world, deals)
    yield "OpportunityLineItemSchedule", _schedule_rows(world, deals)
    yield "OpportunitySplitType", _split_type_rows(world)
    yield "OpportunitySplit", _split_rows(world, deals)
    yield "Quote", _quote_rows(world, day, deals)
    order_present = world.arrays["Order"]["created_day"] <= day
    yield "Order", _order_rows(world, day, order_present)
    yield "OrderItem", _order_item_rows(world, order_present)
    yield "Contract", _contract_rows(world, day)
    yield "User", world.frames["User"].select(sf_id("User", "row").alias("Id"), "Name", "IsActive")
    yield "DatedConversionRate", _conversion_rate_rows(world, day)


def _exists(arrays: dict, day: int, created: str = "created_day") -> np.ndarray:
    return (arrays[created] <= day) & (arrays["deleted_day"] > day)


def _close_dates(opp: dict, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Each deal's CloseDate on the day, after slips, pull-ins and losses; and whether it
    is lost on the day (CloseDate that day, until reopened at the close date it had)."""
    close = np.where(opp["slip_day"] <= day, opp["close"], opp["close_before"])
    pulled_later = (opp["pull_day"] < NEVER) & (opp["pull_day"] > day)
    close = np.where(pulled_later, opp["close_later"], close)
    lost = (opp["lost_day"] <= day) & (opp["reopen_day"] > day)
    return np.where(lost, opp["lost_day"], close), lost


def _deals_on_day(world: World, day: int) -> _DealsOnDay:
    """Stage, flags, probability and amount of every deal as the CRM shows them on the day."""
    acc = world.arrays["Account"]
    opp = world.arrays["Opportunity"]
    lines = world.arrays["OpportunityLineItem"]
    defaults = stage_defaults()
    present = _exists(opp, day) & (acc["deleted_day"][opp["account"]] > day)
    close, lost = _close_dates(opp, day)
    is_closed = ((close <= day) & ~opp["stale"]) | lost
    is_won = is_closed & opp["won"] & ~lost
    progress = (day - opp["created_day"]) / np.maximum(close - opp["created_day"], 1)
    stage = np.searchsorted(STAGE_THRESHOLDS, progress, side="right")
    stage = np.where(opp["stale"], NEGOTIATION, stage)
    stage = np.where(is_closed, np.where(is_won, CLOSED_WON, CLOSED_LOST), stage)
    probability = defaults.probability[stage] + np.where(is_closed, 0, opp["probability_delta"])
    probability = np.where(opp["probability_empty"], -1, np.clip(probability, 0, 100))
    forecast_category = np.where(
        opp["forecast_category_empty"], len(defaults.forecast_category), stage
    )

    line_present = present[lines["opportunity"]] & (lines["deleted_day"] > day)
    revised = lines["revised_day"] > day
    line_total = np.where(revised, lines["total_before"], lines["total"])
    amount = np.round(
        np.bincount(
            lines["opportunity"][line_present],
            weights=line_total[line_present],
            minlength=present.size,
        ),
        2,
    )
    amount = np.where(lines["lines_per_opp"] == 0, opp["manual_amount"], amount)
    amount = np.where(opp["amount_empty"], np.nan, amount)
    return _DealsOnDay(
        present=present,
        close=close,
        stage=stage,
        is_closed=is_closed,
        is_won=is_won,
        probability=probability,
        forecast_category=forecast_category,
        amount=amount,
        line_present=line_present,
        line_quantity=np.where(revised, lines["quantity_before"], lines["quantity"]),
        line_total=line_total,
    )


def _account_rows(world: World, day: int) -> pl.DataFrame:
    return (
        world.frames["Account"]
        .filter(_exists(world.arrays["Account"], day))
        .select(
            sf_id("Account", "row").alias("Id"),
            "Name",
            "Website",
            "BillingCountry",
            sf_id("Account", "parent").alias("ParentId"),
            sf_id("User", "owner").alias("OwnerId"),
            sf_id("User", "csm").alias("CSM__c"),
            sf_id("Account", "master").alias("MasterRecordId"),
            "IsDeleted",
            as_datetime("created_ts").alias("CreatedDate"),
        )
    )


def _product_rows(world: World) -> pl.DataFrame:
    return world.frames["Product2"].select(
        sf_id("Product2", "row").alias("Id"), *header("Product2")[1:]
    )


def _opportunity_rows(world: World, deals: _DealsOnDay) -> pl.DataFrame:
    forecast_categories = stage_defaults().forecast_category + (None,)
    return (
        world.frames["Opportunity"]
        .with_columns(
            StageName=gather(STAGES, deals.stage),
            close=deals.close,
            Amount=deals.amount,
            probability=deals.probability,
            ForecastCategoryName=gather(forecast_categories, deals.forecast_category),
            IsClosed=deals.is_closed,
            IsWon=deals.is_won,
        )
        .filter(deals.present)
        .select(
            sf_id("Opportunity", "row").alias("Id"),
            sf_id("Account", "account").alias("AccountId"),
            "Name",
            "StageName",
            as_date("close").alias("CloseDate"),
            pl.col("Amount").fill_nan(None),
            optional_int("probability").alias("Probability"),
            "ForecastCategoryName",
            "IsClosed",
            "IsWon",
            "Type",
            sf_id("User", "owner").alias("OwnerId"),
            "CurrencyIsoCode",
            as_datetime("created_ts").alias("CreatedDate"),
            "Create_Potential_Subscription__c",
            "Use_Case__c",
            as_date("start").alias("Start_Date__c"),
            optional_int("Term_Months__c").alias("Term_Months__c"),
        )
    )


def _line_item_rows(world: World, deals: _DealsOnDay) -> pl.DataFrame:
    return (
        world.frames["OpportunityLineItem"]
        .with_columns(Quantity=deals.line_quantity, TotalPrice=deals.line_total)
        .filter(deals.line_present)
        .select(
            sf_id("OpportunityLineItem", "row").alias("Id"),
            sf_id("Opportunity", "opportunity").alias("OpportunityId"),
            sf_id("Product2", "product").alias("Product2Id"),
            "Quantity",
            "UnitPrice",
            pl.col("Discount").fill_nan(None),
            "TotalPrice",
            as_date("service_date").alias("ServiceDate"),
            pl.when(pl.col("order_no") >= 0)
            .then(pl.lit("SO-") + (pl.col("order_no") + 1).cast(pl.String).str.zfill(8))
            .alias("Order_No__c"),
            pl.when(pl.col("exclude") >= 0)
            .then(pl.col("exclude") == 1)
            .alias("Exclude_From_Upgrade__c"),
        )
    )


def _schedule_rows(world: World, deals: _DealsOnDay) -> pl.DataFrame:
    schedules = world.arrays["OpportunityLineItemSchedule"]
    return (
        world.frames["OpportunityLineItemSchedule"]
        .filter(deals.line_present[schedules["line"]])
        .select(
            sf_id("OpportunityLineItemSchedule", "row").alias("Id"),
            sf_id("OpportunityLineItem", "line").alias("OpportunityLineItemId"),
            "Type",
            as_date("date").alias("ScheduleDate"),
            pl.col("Quantity").fill_nan(None),
            pl.col("Revenue").fill_nan(None),
            "Description",
        )
    )


def _split_type_rows(world: World) -> pl.DataFrame:
    return world.frames["OpportunitySplitType"].select(
        sf_id("OpportunitySplitType", "row").alias("Id"),
        "DeveloperName",
        "SplitField",
        "IsTotalValidated",
    )


def _split_rows(world: World, deals: _DealsOnDay) -> pl.DataFrame:
    split = world.frames["OpportunitySplit"]
    return split.filter(deals.present[split["opportunity"].to_numpy()]).select(
        sf_id("OpportunitySplit", "row").alias("Id"),
        sf_id("Opportunity", "opportunity").alias("OpportunityId"),
        sf_id("User", "owner").alias("SplitOwnerId"),
        "SplitPercentage",
        sf_id("OpportunitySplitType", "split_type").alias("SplitTypeId"),
    )


def _quote_rows(world: World, day: int, deals: _DealsOnDay) -> pl.DataFrame:
    """Quotes of present deals: the latest one accepted once the deal is won, presented
    from Proposal on; a syncing quote totals the deal's amount, others carry a markup."""
    quotes = world.arrays["Quote"]
    quote_opp = quotes["opportunity"]
    quote_status = np.where(
        quotes["latest"] & deals.is_won[quote_opp],
        2,
        np.where(
            deals.is_closed[quote_opp] | (deals.stage[quote_opp] >= 2) | ~quotes["latest"], 1, 0
        ),
    )
    grand_total = np.where(
        quotes["is_syncing"],
        deals.amount[quote_opp],
        np.round(np.nan_to_num(deals.amount[quote_opp]) * quotes["markup"], 2),
    )
    return (
        world.frames["Quote"]
        .with_columns(
            Status=gather(("Draft", "Presented", "Accepted"), quote_status),
            GrandTotal=grand_total,
        )
        .filter(_exists(quotes, day) & deals.present[quote_opp])
        .select(
            sf_id("Quote", "row").alias("Id"),
            sf_id("Opportunity", "opportunity").alias("OpportunityId"),
            "Status",
            as_date("expiration").alias("ExpirationDate"),
            "IsSyncing",
            pl.col("GrandTotal").fill_nan(None),
            as_datetime("created_ts").alias("CreatedDate"),
        )
    )


def _order_rows(world: World, day: int, order_present: np.ndarray) -> pl.DataFrame:
    orders = world.arrays["Order"]
    order_status = np.where(
        orders["cancelled_day"] <= day, 2, np.where(orders["activated_day"] <= day, 1, 0)
    )
    return (
        world.frames["Order"]
        .with_columns(
            Status=gather(("Draft", "Activated", "Cancelled"), order_status),
            activated_ts=np.where(order_status == 1, orders["activated_ts"], -1),
        )
        .filter(order_present)
        .select(
            sf_id("Order", "row").alias("Id"),
            sf_id("Account", "account").alias("AccountId"),
            sf_id("Opportunity", "opportunity").alias("OpportunityId"),
            sf_id("Contract", "contract").alias("ContractId"),
            "Status",
            "Type",
            as_date("effective").alias("EffectiveDate"),
            as_date("end").alias("EndDate"),
            as_datetime("activated_ts").alias("ActivatedDate"),
            as_datetime("created_ts").alias("CreatedDate"),
        )
    )


def _order_item_rows(world: World, order_present: np.ndarray) -> pl.DataFrame:
    items = world.arrays["OrderItem"]
    return (
        world.frames["OrderItem"]
        .filter(order_present[items["order"]])
        .select(
            sf_id("OrderItem", "row").alias("Id"),
            sf_id("Order", "order").alias("OrderId"),
            sf_id("Product2", "product").alias("Product2Id"),
            "Quantity",
            "UnitPrice",
            as_date("service_date").alias("ServiceDate"),
            as_date("end").alias("EndDate"),
        )
    )


def _contract_rows(world: World, day: int) -> pl.DataFrame:
    contracts = world.arrays["Contract"]
    contract_status = np.where(
        contracts["is_draft"], 0, np.where(contracts["effective_end"] < day, 2, 1)
    )
    return (
        world.frames["Contract"]
        .with_columns(
            Status=gather(("Draft", "Activated", "Expired"), contract_status),
            activated_ts=np.where(contracts["is_draft"], -1, contracts["activated_ts"]),
        )
        .filter(contracts["created_day"] <= day)
        .select(
            sf_id("Contract", "row").alias("Id"),
            sf_id("Account", "account").alias("AccountId"),
            (pl.col("row") + 1).cast(pl.String).str.zfill(8).alias("ContractNumber"),
            "Status",
            as_date("start").alias("StartDate"),
            "ContractTerm",
            as_date("end").alias("EndDate"),
            optional_int("notice").alias("OwnerExpirationNotice"),
            as_datetime("activated_ts").alias("ActivatedDate"),
        )
    )


def _conversion_rate_rows(world: World, day: int) -> pl.DataFrame:
    """Dated rates known on the day: the latest period per currency stays open-ended."""
    rates = world.arrays["DatedConversionRate"]
    known = rates["start"] <= day
    frame = pl.DataFrame(
        {
            "IsoCode": rates["iso"][known],
            "ConversionRate": rates["rate"][known],
            "start": rates["start"][known],
        }
    )
    frame = frame.with_columns(next_start=pl.col("start").shift(-1).over("IsoCode").fill_null(-1))
    usd = pl.DataFrame(
        {
            "IsoCode": [CORPORATE_CURRENCY],
            "ConversionRate": [1.0],
            "start": [int(rates["start"].min())],
            "next_start": [-1],
        }
    )
    return pl.concat([usd, frame]).select(
        "IsoCode",
        "ConversionRate",
        as_date("start").alias("StartDate"),
        as_date("next_start").alias("NextStartDate"),
    )
