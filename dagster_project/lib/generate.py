"""Synthetic Salesforce-like CRM snapshots (SPEC §7).

`generate()` invents a SaaS company's CRM history over about three years before `end_date`
(new logos, reorders, upgrades, renewals won and lost, churn and win-backs, quotes, orders,
contracts, splits, multi-currency deals, duplicate accounts) and writes `days` daily full
exports of it, `out_dir/<YYYY-MM-DD>/<Object>.csv`, with the Salesforce API field names of
SPEC §2 as headers.

How it works, so the code below reads top to bottom:

1. Build one "world" once, column by column with numpy (no loop over accounts or deals):
   every record gets the day it was created and, where it happens, the day it is deleted,
   and every field that moves during the snapshot window (stage, close date, line
   quantity, order and contract status) gets its before/after value and the day it flips.
2. For each snapshot day, keep the records that exist on that day, evaluate the moving
   fields as of that day, format Ids/dates and write the CSVs.

So an earlier snapshot is always an older state of a later one, every foreign key points
at a row of the same snapshot (children are never created before, nor kept after, their
parents), and the same (accounts, days, seed, end_date) always gives byte-identical files.
Row counts grow linearly with `accounts`; 1M accounts stay within a few GB of memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

DEFAULT_END_DATE = date(2026, 11, 16)
HISTORY_DAYS = 3 * 365 + 1  # about three years of CRM history before the last snapshot

# Salesforce API field names per object, in SPEC §2 order: this is the CSV header.
# fmt: off
OBJECT_FIELDS: dict[str, tuple[str, ...]] = {
    "Account": (
        "Id", "Name", "Website", "BillingCountry", "ParentId", "OwnerId", "CSM__c",
        "MasterRecordId", "IsDeleted", "CreatedDate",
    ),
    "Product2": (
        "Id", "Name", "ProductCode", "Family", "IsActive", "Charge_Type__c",
        "CanUseQuantitySchedule", "QuantityScheduleType", "QuantityInstallmentPeriod",
        "NumberOfQuantityInstallments", "CanUseRevenueSchedule", "RevenueScheduleType",
        "RevenueInstallmentPeriod", "NumberOfRevenueInstallments", "Exclude_From_Upgrade__c",
    ),
    "Opportunity": (
        "Id", "AccountId", "Name", "StageName", "CloseDate", "Amount", "Probability",
        "ForecastCategoryName", "IsClosed", "IsWon", "Type", "OwnerId", "CurrencyIsoCode",
        "CreatedDate", "Create_Potential_Subscription__c", "Use_Case__c", "Start_Date__c",
        "Term_Months__c",
    ),
    "OpportunityLineItem": (
        "Id", "OpportunityId", "Product2Id", "Quantity", "UnitPrice", "Discount",
        "TotalPrice", "ServiceDate", "Order_No__c", "Exclude_From_Upgrade__c",
    ),
    "OpportunityLineItemSchedule": (
        "Id", "OpportunityLineItemId", "Type", "ScheduleDate", "Quantity", "Revenue",
        "Description",
    ),
    "OpportunitySplitType": ("Id", "DeveloperName", "SplitField", "IsTotalValidated"),
    "OpportunitySplit": ("Id", "OpportunityId", "SplitOwnerId", "SplitPercentage", "SplitTypeId"),
    "Quote": (
        "Id", "OpportunityId", "Status", "ExpirationDate", "IsSyncing", "GrandTotal",
        "CreatedDate",
    ),
    "Order": (
        "Id", "AccountId", "OpportunityId", "ContractId", "Status", "Type", "EffectiveDate",
        "EndDate", "ActivatedDate", "CreatedDate",
    ),
    "OrderItem": (
        "Id", "OrderId", "Product2Id", "Quantity", "UnitPrice", "ServiceDate", "EndDate",
    ),
    "Contract": (
        "Id", "AccountId", "ContractNumber", "Status", "StartDate", "ContractTerm", "EndDate",
        "OwnerExpirationNotice", "ActivatedDate",
    ),
    "User": ("Id", "Name", "IsActive"),
    "DatedConversionRate": ("IsoCode", "ConversionRate", "StartDate", "NextStartDate"),
}

# Salesforce key prefixes; the rest of an Id is a zero-padded sequence (18 characters).
ID_PREFIX = {
    "Account": "001", "Opportunity": "006", "Product2": "01t", "OpportunityLineItem": "00k",
    "OpportunityLineItemSchedule": "00o", "User": "005", "Order": "801", "OrderItem": "802",
    "Contract": "800", "Quote": "0Q0", "OpportunitySplitType": "149", "OpportunitySplit": "04x",
}
# fmt: on

# Stage ladder of an open deal (by how far it is from creation to close), then the closed
# stages. Default probability and forecast category per stage: the same map belongs in
# seeds/reference for rows where the CRM left them empty.
STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
CLOSED_WON, CLOSED_LOST = 4, 5
STAGE_PROBABILITY = np.array([10, 20, 50, 75, 100, 0])
STAGE_FORECAST_CATEGORY = ("Pipeline", "Pipeline", "Best Case", "Commit", "Closed", "Omitted")

CORPORATE_CURRENCY = "USD"
# Units of the currency per 1 USD around which the quarterly dated rates wander.
BASE_RATES = {"EUR": 0.92, "GBP": 0.79, "CAD": 1.36}
CURRENCIES = ("USD", "EUR", "GBP", "CAD")

# Deal kinds of the lifecycle; "anchor" deals (new business, win-back, renewal) start a
# contract term, reorders and upgrades happen inside one.
NEW_BUSINESS, WIN_BACK, RENEWAL, REORDER, UPGRADE = range(5)
OPPORTUNITY_TYPE = (
    "New Business", "New Business", "Renewal", "Existing Business", "Existing Business",
)  # fmt: skip
ORDER_TYPE = ("New", "New", "Renewal", "Add-On", "Upgrade")
DEAL_LABEL = ("New Business", "Win-back", "Renewal", "Add-on", "Upgrade")
USE_CASES = (None, "NEW", "REORDER", "UPGRADE")
UC_EMPTY, UC_NEW, UC_REORDER, UC_UPGRADE = range(4)

NEVER = 10**7  # an epoch day after any snapshot: "does not happen within the data"
DAY_SECONDS = 86_400
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


# --------------------------------------------------------------------------------------
# Product catalog: fixed, independent of the number of accounts
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Product:
    name: str
    code: str
    family: str
    charge_type: str | None
    role: str  # how deals use it: platform, upgrade, addon, support, services, usage, broken
    list_price: float  # USD per unit, for the unit its schedule implies
    quantity_model: str  # seats, addon_seats, units, single, hours, usage
    quantity_schedule: tuple[str, str, int] | None = None  # (type, period, installments)
    revenue_schedule: tuple[str, str, int] | None = None
    exclude_from_upgrade: bool = False
    is_active: bool = True


# fmt: off
PRODUCTS: tuple[_Product, ...] = (
    # Platform tiers sold to new logos; Divide schedules, so the price is per seat per term.
    _Product("Platform Standard (12 months)", "PLT-STD-12", "Platform", "Recurring", "platform",
             600, "seats", revenue_schedule=("Divide", "Monthly", 12)),
    _Product("Platform Standard (24 months)", "PLT-STD-24", "Platform", "Recurring", "platform",
             1152, "seats", revenue_schedule=("Divide", "Monthly", 24)),
    _Product("Platform Professional (36 months, quarterly)", "PLT-PRO-36Q", "Platform",
             "Recurring", "platform", 2592, "seats",
             revenue_schedule=("Divide", "Quarterly", 12)),
    # Higher tiers customers upgrade to.
    _Product("Platform Professional (36 months, annual)", "PLT-PRO-36Y", "Platform",
             "Recurring", "upgrade", 2592, "seats", revenue_schedule=("Divide", "Yearly", 3)),
    _Product("Platform Enterprise (yearly)", "PLT-ENT-Y", "Platform", "Recurring", "upgrade",
             1200, "seats", revenue_schedule=("Repeat", "Yearly", 3)),
    _Product("Platform Enterprise (12 months)", "PLT-ENT-12", "Platform", "Recurring",
             "upgrade", 1200, "seats", revenue_schedule=("Divide", "Monthly", 12)),
    # Add-ons, one per schedule variant.
    _Product("Additional Seats", "ADD-SEATS", "Add-on", "Recurring", "addon", 40,
             "addon_seats", quantity_schedule=("Repeat", "Monthly", 12),
             revenue_schedule=("Divide", "Monthly", 12)),
    _Product("Analytics Module", "ADD-ANLT", "Add-on", "Recurring", "addon", 150, "units",
             revenue_schedule=("Repeat", "Monthly", 12)),
    _Product("Storage Pack", "ADD-STOR", "Add-on", "Recurring", "addon", 240, "units",
             quantity_schedule=("Divide", "Monthly", 12),
             revenue_schedule=("Divide", "Monthly", 12)),
    _Product("Sandbox Environment", "ADD-SBX", "Add-on", "Recurring", "addon", 1800, "units",
             revenue_schedule=("Divide", "Monthly", 24), exclude_from_upgrade=True),
    _Product("Legacy Integration Bundle", "ADD-LEG", "Add-on", None, "addon", 90, "units",
             revenue_schedule=("Repeat", "Monthly", 12)),
    # Support plans.
    _Product("Premium Support", "SUP-PREM", "Support", "Recurring", "support", 4800, "single",
             revenue_schedule=("Divide", "Monthly", 12), exclude_from_upgrade=True),
    _Product("Standard Support", "SUP-STD", "Support", "Recurring", "support", 1200, "single"),
    _Product("Customer Success Plan", "SUP-CSP", "Support", "Recurring", "support", 1500,
             "single", revenue_schedule=("Repeat", "Quarterly", 4)),
    _Product("Weekly Health Check", "SUP-WHC", "Support", "Recurring", "support", 40, "single",
             quantity_schedule=("Repeat", "Weekly", 52),
             revenue_schedule=("Divide", "Quarterly", 4)),
    # Services: one-time, some with a delivery schedule.
    _Product("Implementation", "SVC-IMPL", "Services", "One-Time", "services", 5000, "single"),
    _Product("Onboarding Sprint", "SVC-ONB", "Services", "One-Time", "services", 3000,
             "single", revenue_schedule=("Divide", "Daily", 30)),
    _Product("Training Workshop", "SVC-TRN", "Services", "One-Time", "services", 1200, "units",
             quantity_schedule=("Divide", "Weekly", 4)),
    _Product("Consulting Hours", "SVC-CONS", "Services", None, "services", 200, "hours"),
    # Usage: billed on consumption, never MRR.
    _Product("API Calls (per 1,000)", "USG-API", "Add-on", "Usage", "usage", 2, "usage",
             quantity_schedule=("Divide", "Monthly", 12),
             revenue_schedule=("Divide", "Monthly", 12)),
    _Product("Overage Usage", "USG-OVR", "Add-on", "Usage", "usage", 1, "usage"),
    # Retired product whose schedule has 151 installments: lines on it are schedule errors.
    _Product("Data Archive (legacy)", "ADD-ARCH", "Add-on", "Recurring", "broken", 100,
             "units", revenue_schedule=("Divide", "Monthly", 151), is_active=False),
)
# fmt: on

PERIOD_MONTHS = {"Monthly": 1, "Quarterly": 3, "Yearly": 12}  # Daily/Weekly step in days
PERIOD_DAYS = {"Daily": 1, "Weekly": 7}


def _product_arrays() -> dict[str, np.ndarray]:
    """Catalog attributes as arrays indexed by product number, for vectorised lookups."""

    def schedule_field(kind: str, position: int, default):
        return np.array(
            [(getattr(p, f"{kind}_schedule") or (None, None, default))[position] for p in PRODUCTS],
            dtype=object,
        )

    return {
        "role": np.array([p.role for p in PRODUCTS]),
        "list_price": np.array([p.list_price for p in PRODUCTS], dtype=np.float64),
        "quantity_model": np.array([p.quantity_model for p in PRODUCTS]),
        "is_recurring": np.array(
            [
                p.charge_type == "Recurring"
                or (p.charge_type is None and p.revenue_schedule is not None)
                for p in PRODUCTS
            ],
            dtype=bool,
        ),
        "is_one_time": np.array([p.charge_type == "One-Time" for p in PRODUCTS]),
        "has_quantity_schedule": np.array([p.quantity_schedule is not None for p in PRODUCTS]),
        "has_revenue_schedule": np.array([p.revenue_schedule is not None for p in PRODUCTS]),
        "revenue_period": schedule_field("revenue", 1, "Monthly"),
        # One installment's length: whole months, or days for Daily/Weekly periods.
        "revenue_step_months": np.array(
            [
                PERIOD_MONTHS.get(p.revenue_schedule[1], 0) if p.revenue_schedule else 0
                for p in PRODUCTS
            ]
        ),
        "revenue_step_days": np.array(
            [
                PERIOD_DAYS.get(p.revenue_schedule[1], 0) if p.revenue_schedule else 0
                for p in PRODUCTS
            ]
        ),
        "revenue_installments": schedule_field("revenue", 2, 0).astype(np.int64),
        "quantity_period": schedule_field("quantity", 1, "Monthly"),
        "quantity_installments": schedule_field("quantity", 2, 0).astype(np.int64),
        "discountable": np.array([p.role != "usage" for p in PRODUCTS]),
    }


# --------------------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------------------


def _epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def _add_months(days: np.ndarray, months) -> np.ndarray:
    """Epoch days plus whole months, clamped to the month's end (Jan 31 + 1 → Feb 28/29)."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    day_of_month = (d - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(months, dtype=np.int64).astype("timedelta64[M]")
    target_first = target.astype("datetime64[D]")
    month_length = ((target + 1).astype("datetime64[D]") - target_first).astype(np.int64)
    return (target_first + np.minimum(day_of_month, month_length - 1)).astype(np.int64)


def _term_end(start: np.ndarray, months) -> np.ndarray:
    """Salesforce's contract end: start + term months − 1 day."""
    return _add_months(start, months) - 1


def _first_of_next_month(days: np.ndarray) -> np.ndarray:
    month = np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]")
    return (month + 1).astype("datetime64[D]").astype(np.int64)


def _installment_dates(start: np.ndarray, k: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Date of installment k (0-based) from start, per SPEC §4.4 (month steps from start)."""
    months = np.zeros_like(k)
    step_days = np.zeros_like(k)
    for name, per in PERIOD_MONTHS.items():
        months = np.where(period == name, k * per, months)
    for name, per in PERIOD_DAYS.items():
        step_days = np.where(period == name, k * per, step_days)
    return _add_months(start, months) + step_days


def _explode(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Children of a ragged one-to-many: (parent index, position within parent, first child)."""
    counts = np.asarray(counts, dtype=np.int64)
    first_child = np.cumsum(counts) - counts
    parent = np.repeat(np.arange(counts.size), counts)
    position = np.arange(parent.size) - first_child[parent]
    return parent, position, first_child


def _business_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """A time of day between 08:00 and 19:00 UTC, to the minute."""
    return rng.integers(8 * 60, 19 * 60, size=n).astype(np.int64) * 60


def _pick(rng: np.random.Generator, n: int, weights) -> np.ndarray:
    weights = np.asarray(weights, dtype=np.float64)
    return rng.choice(weights.size, size=n, p=weights / weights.sum())


def _sample_at_least(
    rng: np.random.Generator, candidates: np.ndarray, share: float, minimum: int = 1
) -> np.ndarray:
    """A random subset of `candidates` of about `share` of them, but at least `minimum`,
    so that every branch of the data shows up even in a small sample."""
    count = min(candidates.size, max(minimum, round(share * candidates.size)))
    return np.sort(rng.choice(candidates, size=count, replace=False)) if count else candidates[:0]


def _window_day(rng: np.random.Generator, calendar: _Calendar, n: int) -> np.ndarray:
    """A snapshot day after the first one, for an event that happens within the window."""
    return calendar.first + rng.integers(1, calendar.days, size=n)


def _gather(values: tuple | list, codes: np.ndarray) -> pl.Series:
    """Strings (or nulls) of a small vocabulary looked up by integer code."""
    return pl.Series(list(values), dtype=pl.String).gather(np.asarray(codes, dtype=np.int64))


@dataclass(frozen=True)
class _Calendar:
    end: int  # epoch day of the last snapshot
    days: int  # number of daily snapshots
    history_days: int = HISTORY_DAYS  # how far back the company's CRM history goes

    @property
    def first(self) -> int:
        return self.end - self.days + 1

    @property
    def history_start(self) -> int:
        return self.end - self.history_days

    @property
    def snapshot_days(self) -> range:
        return range(self.first, self.end + 1)


# --------------------------------------------------------------------------------------
# The world: every record ever, with its creation/deletion day and moving fields
# --------------------------------------------------------------------------------------

# fmt: off
FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Lucas", "Mia", "Leon", "Sofia", "Mateo", "Chloe",
    "Ethan", "Hannah", "Felix", "Grace", "Omar", "Priya", "Kenji", "Zoe", "Marco", "Ines",
    "Jonas", "Aisha", "Daniel", "Freya", "Hugo", "Lena", "Ravi", "Sara", "Tom",
)
LAST_NAMES = (
    "Smith", "Müller", "Garcia", "Chen", "Johnson", "Dubois", "Rossi", "Kowalski", "Patel",
    "Nguyen", "Brown", "Schmidt", "Jansen", "Silva", "Tanaka", "Williams", "O'Brien",
    "Andersson", "Martin", "Novak", "Khan", "Fischer", "Lopez", "Murphy", "Weber",
)
# Company names are brand + industry (+ region), a bijection of the customer number, so two
# customers never share a name or domain by accident: duplicates are only the planted ones.
# (Heads are 3 letters and middles 2, so the concatenated brand splits back unambiguously.)
BRAND_HEADS = (
    "Zen", "Kor", "Val", "Tal", "Mer", "Nov", "Sol", "Tor", "Ver", "Lum", "Bel", "Cal", "Dar",
    "Fen", "Gal", "Hal", "Jor", "Kel", "Lir", "Mav", "Nex", "Pol", "Quo", "Ral", "Sen", "Tiv",
    "Vor", "Wen", "Xal", "Yar",
)
BRAND_MIDDLES = (
    "ab", "ex", "io", "on", "ar", "ia", "or", "um", "ix", "eo", "ra", "us", "yn", "el", "ic",
    "ov", "an", "en", "is", "ul",
)
BRAND_TAILS = ("", "tra", "vo", "ri", "mo", "ta", "la", "ne", "dex", "ton")
INDUSTRIES = (
    "Labs", "Systems", "Analytics", "Health", "Logistics", "Foods", "Energy", "Media",
    "Robotics", "Finance", "Software", "Networks", "Biotech", "Capital", "Retail", "Motors",
    "Dynamics", "Studios", "Partners", "Cloud", "Works", "Solutions", "Security", "Travel",
    "Learning",
)
REGIONS = (
    "", "Group", "Global", "International", "Holdings", "North America", "Europe", "Digital",
    "Technologies", "Ventures",
)
COUNTRIES = (
    "United States", "United Kingdom", "Germany", "France", "Netherlands", "Spain", "Canada",
    "Australia", "Sweden", "Japan",
)
COUNTRY_WEIGHTS = (0.50, 0.13, 0.09, 0.05, 0.04, 0.03, 0.06, 0.04, 0.03, 0.03)
COUNTRY_CURRENCY = np.array([0, 2, 1, 1, 1, 1, 3, 0, 0, 0])  # index into CURRENCIES
COUNTRY_TLD = (".com", ".co.uk", ".de", ".fr", ".nl", ".es", ".ca", ".com.au", ".se", ".jp")
COUNTRY_LEGAL_SUFFIX = ("Inc.", "Ltd", "GmbH", "S.A.", "B.V.", "S.A.", "Inc.", "Ltd", "", "")
# Ways people type the same website; all normalise to the bare domain.
WEBSITE_FORMS = (
    "https://www.{}", "www.{}", "{}", "http://{}/", "https://{}",
    # ...and the forms only duplicates use, so a duplicate never matches its original exactly.
    "https://www.{}/about", "HTTP://WWW.{}/", "http://www.{}/contact",
)
# Ways people retype the same company without a website: same name once lowercased,
# punctuation removed and the legal suffix dropped.
NAME_VARIANTS = ("upper_llc", "comma_inc", "ltd", "lower_inc", "gmbh")
# fmt: on

DUPLICATE_NONE, DUPLICATE_BY_DOMAIN, DUPLICATE_BY_NAME, DUPLICATE_MERGED = range(4)
NO_DEALS, PROSPECT, CUSTOMER = range(3)


@dataclass
class _World:
    calendar: _Calendar
    frames: dict[str, pl.DataFrame]  # static raw columns per object, one row per record ever
    arrays: dict[str, dict[str, np.ndarray]]  # moving fields and existence per object


def _users(rng: np.random.Generator, accounts: int) -> dict[str, np.ndarray]:
    count = max(5, accounts // 20)
    is_active = rng.random(count) >= 0.12
    is_active[:3] = True  # enough active reps to own deals and splits
    is_active[-1] = False  # at least one inactive owner of old records
    return {
        "first": rng.integers(len(FIRST_NAMES), size=count),
        "last": rng.integers(len(LAST_NAMES), size=count),
        "is_active": is_active,
    }


def _choose_owner(
    rng: np.random.Generator, users: dict, n: int, inactive_share: float = 0.08
) -> np.ndarray:
    """Mostly an active user; some records are still owned by people who left."""
    active = np.flatnonzero(users["is_active"])
    owner = active[rng.integers(active.size, size=n)]
    anyone = rng.integers(users["is_active"].size, size=n)
    return np.where(rng.random(n) < inactive_share, anyone, owner)


def _accounts(
    rng: np.random.Generator, n: int, calendar: _Calendar, users: dict
) -> dict[str, np.ndarray]:
    """Accounts in creation order (Ids increase with CreatedDate), with planted duplicates."""
    # Creation: a growing company, more accounts recently; a few created on each window day.
    window_new = 0
    if calendar.days > 1:
        window_new = min(n // 4, max(calendar.days - 1, round(n * 0.0012 * (calendar.days - 1))))
    history = n - window_new
    span_seconds = (calendar.first + 1 - calendar.history_start) * DAY_SECONDS
    history_ts = (
        calendar.history_start * DAY_SECONDS
        + (rng.random(history) ** 0.8 * span_seconds).astype(np.int64) // 60 * 60
    )
    window_day = calendar.first + 1 + np.arange(window_new) % max(calendar.days - 1, 1)
    window_ts = window_day * DAY_SECONDS + _business_seconds(rng, window_new)
    created_ts = np.sort(np.concatenate([history_ts, window_ts]))
    created_day = created_ts // DAY_SECONDS
    index = np.arange(n)

    # Duplicates point at an earlier, non-duplicate "original" account of the same customer.
    duplicate = _pick(rng, n, [0.945, 0.025, 0.015, 0.015])
    duplicate[:10] = DUPLICATE_NONE
    if n >= 30:
        for kind in (DUPLICATE_BY_DOMAIN, DUPLICATE_BY_NAME, DUPLICATE_MERGED):
            missing = 2 - np.count_nonzero(duplicate == kind)
            if missing > 0:
                free = np.flatnonzero((duplicate == DUPLICATE_NONE) & (index >= 10))
                duplicate[rng.choice(free, size=missing, replace=False)] = kind
    originals = np.flatnonzero(duplicate == DUPLICATE_NONE)
    is_duplicate = duplicate != DUPLICATE_NONE
    earlier_originals = np.searchsorted(originals, index)  # originals created before each
    original = index.copy()
    picked = (rng.random(n) * earlier_originals).astype(np.int64)
    original[is_duplicate] = originals[picked[is_duplicate]]
    # An original copied by name must have no website, one copied by domain must have one;
    # when both happened to pick the same original, the domain copy becomes a name copy.
    name_copied = np.zeros(n, dtype=bool)
    name_copied[original[duplicate == DUPLICATE_BY_NAME]] = True
    duplicate[(duplicate == DUPLICATE_BY_DOMAIN) & name_copied[original]] = DUPLICATE_BY_NAME
    domain_copied = np.zeros(n, dtype=bool)
    domain_copied[original[duplicate == DUPLICATE_BY_DOMAIN]] = True

    has_website = rng.random(n) < 0.85
    has_website[name_copied] = False
    has_website[domain_copied] = True
    has_website[duplicate == DUPLICATE_BY_DOMAIN] = True
    has_website[duplicate == DUPLICATE_BY_NAME] = False

    # Company identity of the customer (shared by its duplicates).
    combos = (
        len(BRAND_HEADS) * len(BRAND_MIDDLES) * len(BRAND_TAILS) * len(INDUSTRIES) * len(REGIONS)
    )
    customer_number = (original * 1_000_003 + int(rng.integers(combos))) % combos
    overflow = original // combos  # beyond 1.5M customers a numeral keeps names unique
    digits = customer_number
    parts = []
    for vocabulary in (BRAND_HEADS, BRAND_MIDDLES, BRAND_TAILS, INDUSTRIES, REGIONS):
        parts.append(digits % len(vocabulary))
        digits = digits // len(vocabulary)
    head, middle, tail, industry, region = parts
    country = _pick(rng, n, COUNTRY_WEIGHTS)
    country = country[original]  # duplicates share the original's country

    parent = np.full(n, -1)
    has_parent = (duplicate == DUPLICATE_NONE) & (index >= 10) & (rng.random(n) < 0.03)
    has_parent_ids = np.flatnonzero(has_parent)
    parent[has_parent_ids] = originals[
        (rng.random(has_parent_ids.size) * earlier_originals[has_parent_ids]).astype(np.int64)
    ]

    master = np.where(duplicate == DUPLICATE_MERGED, original, -1)
    merged = np.flatnonzero(duplicate == DUPLICATE_MERGED)
    is_deleted = np.zeros(n, dtype=bool)
    is_deleted[merged] = rng.random(merged.size) < 0.6
    if merged.size >= 2:  # both kinds of merged record: flagged deleted and not
        is_deleted[merged[0]], is_deleted[merged[1]] = True, False

    # What the account does over its life: nothing, buys nothing, or becomes a customer.
    in_window = created_day > calendar.first
    lifecycle = _pick(rng, n, [0.12, 0.18, 0.70])
    lifecycle = np.where(is_duplicate, _pick(rng, n, [0.3, 0.3, 0.4]), lifecycle)
    lifecycle = np.where(in_window, _pick(rng, n, [0.4, 0.6, 0.0]), lifecycle)

    # A few accounts without deals or dependants are deleted during the window.
    deleted_day = np.full(n, NEVER)
    if calendar.days > 1:
        referenced = np.zeros(n, dtype=bool)
        referenced[parent[parent >= 0]] = True
        referenced[original[is_duplicate]] = True
        candidates = np.flatnonzero(
            (lifecycle == NO_DEALS) & ~referenced & ~is_duplicate & (created_day < calendar.first)
        )
        gone = _sample_at_least(rng, candidates, 0.004 * (calendar.days - 1))
        deleted_day[gone] = _window_day(rng, calendar, gone.size)

    return {
        "created_ts": created_ts,
        "created_day": created_day,
        "deleted_day": deleted_day,
        "duplicate": duplicate,
        "original": original,
        "has_website": has_website,
        "website_form": np.where(
            duplicate == DUPLICATE_BY_DOMAIN,
            rng.integers(5, len(WEBSITE_FORMS), size=n),
            rng.integers(0, 5, size=n),
        ),
        "name_variant": rng.integers(len(NAME_VARIANTS), size=n),
        "head": head,
        "middle": middle,
        "tail": tail,
        "industry": industry,
        "region": region,
        "overflow": overflow,
        "country": country,
        "has_country": rng.random(n) >= 0.03,
        "currency": COUNTRY_CURRENCY[country],
        "parent": parent,
        "master": master,
        "is_deleted": is_deleted,
        "owner": _choose_owner(rng, users, n),
        "csm": np.where(rng.random(n) < 0.75, _choose_owner(rng, users, n, 0.03), -1),
        "lifecycle": lifecycle,
    }


def _account_frame(acc: dict[str, np.ndarray]) -> pl.DataFrame:
    """Account names and websites as strings, built column-wise with polars."""
    frame = pl.DataFrame(
        {
            "row": np.arange(acc["head"].size),
            "head": _gather(BRAND_HEADS, acc["head"]),
            "middle": _gather(BRAND_MIDDLES, acc["middle"]),
            "tail": _gather(BRAND_TAILS, acc["tail"]),
            "industry": _gather(INDUSTRIES, acc["industry"]),
            "region": _gather(REGIONS, acc["region"]),
            "overflow": acc["overflow"],
            "legal": _gather(COUNTRY_LEGAL_SUFFIX, acc["country"]),
            "tld": _gather(COUNTRY_TLD, acc["country"]),
            "duplicate": acc["duplicate"],
            "variant": _gather(NAME_VARIANTS, acc["name_variant"]),
            "form": acc["website_form"],
            "has_website": acc["has_website"],
        }
    )
    numeral = (
        pl.when(pl.col("overflow") > 0)
        .then(pl.lit(" ") + pl.col("overflow").cast(pl.String))
        .otherwise(pl.lit(""))
    )
    base = (
        pl.concat_str("head", "middle", "tail")
        + pl.lit(" ")
        + pl.col("industry")
        + pl.when(pl.col("region") != "").then(pl.lit(" ") + pl.col("region")).otherwise(pl.lit(""))
        + numeral
    )
    domain = (
        pl.concat_str("head", "middle", "tail", "industry").str.to_lowercase()
        + pl.col("region").str.replace_all(" ", "").str.to_lowercase()
        + pl.col("overflow").cast(pl.String).replace("0", "")
        + pl.col("tld")
    )
    original_name = (
        pl.when(pl.col("legal") != "")
        .then(pl.col("base") + pl.lit(" ") + pl.col("legal"))
        .otherwise(pl.col("base"))
    )
    retyped_name = (
        pl.when(pl.col("variant") == "upper_llc")
        .then(pl.col("base").str.to_uppercase() + pl.lit(", LLC"))
        .when(pl.col("variant") == "comma_inc")
        .then(pl.col("base") + pl.lit(", Inc"))
        .when(pl.col("variant") == "ltd")
        .then(pl.col("base") + pl.lit(" Ltd."))
        .when(pl.col("variant") == "lower_inc")
        .then(pl.col("base").str.to_lowercase() + pl.lit(" inc"))
        .otherwise(pl.col("base") + pl.lit(" GmbH"))
    )
    website = pl.lit(None, dtype=pl.String)
    for code, form in enumerate(WEBSITE_FORMS):
        prefix, suffix = form.split("{}")
        value = pl.lit(prefix) + pl.col("domain") + pl.lit(suffix)
        if form.startswith("HTTP"):  # typed in capitals, domain included
            value = pl.lit(prefix) + pl.col("domain").str.to_uppercase() + pl.lit(suffix)
        website = pl.when(pl.col("form") == code).then(value).otherwise(website)
    return frame.with_columns(base=base, domain=domain).select(
        "row",
        pl.when(pl.col("duplicate").is_in([DUPLICATE_BY_NAME, DUPLICATE_MERGED]))
        .then(retyped_name)
        .otherwise(original_name)
        .alias("Name"),
        pl.col("base").alias("short_name"),
        pl.when(pl.col("has_website")).then(website).alias("Website"),
    )


def _deals(rng: np.random.Generator, acc: dict, calendar: _Calendar) -> dict[str, np.ndarray]:
    """Every opportunity of every account's life, in creation order.

    Per account: a first deal (won for customers), then contract terms that each may see
    reorders and upgrades and end in a renewal won or lost, a churn, maybe a win-back.
    The loop runs over contract terms (a handful), each step vectorised over accounts.
    """
    batches: list[dict[str, np.ndarray]] = []
    emitted = 0
    end = calendar.end
    n = acc["lifecycle"].size

    def emit(**columns) -> np.ndarray:
        nonlocal emitted
        keep = columns.pop("exists")
        batch = {name: np.asarray(values)[keep] for name, values in columns.items()}
        size = batch["account"].size
        batch.setdefault("prev_anchor", np.full(size, -1))
        ids = emitted + np.arange(size)
        if "anchor" not in batch:
            batch["anchor"] = ids
        batches.append(batch)
        emitted += size
        full = np.full(keep.size, -1)
        full[keep] = ids
        return full

    def sales_cycle(size: int, median_days: float, low: int, high: int) -> np.ndarray:
        return np.clip(rng.lognormal(np.log(median_days), 0.6, size), low, high).astype(np.int64)

    def term_choice(size: int) -> np.ndarray:
        return np.array([12, 24, 36])[_pick(rng, size, [0.6, 0.25, 0.15])]

    # First deal: new business for customers and prospects.
    first = np.flatnonzero(acc["lifecycle"] != NO_DEALS)
    size = first.size
    created_ts = (
        acc["created_ts"][first]
        + (rng.exponential(10 * DAY_SECONDS, size) + 600).astype(np.int64) // 60 * 60
    )
    created_day = created_ts // DAY_SECONDS
    close = created_day + sales_cycle(size, 45, 7, 240)
    is_customer = acc["lifecycle"][first] == CUSTOMER
    start = np.where(rng.random(size) < 0.25, _first_of_next_month(close), -1)
    use_case = np.where(rng.random(size) < 0.45, UC_NEW, UC_EMPTY)
    # A few won first deals say UPGRADE although there is nothing to upgrade: the
    # subscription builder must report them, not crash.
    won_now = np.flatnonzero(is_customer & (close <= end) & (created_day <= end))
    use_case[_sample_at_least(rng, won_now, 0.004)] = UC_UPGRADE
    term = term_choice(size)
    first_ids = emit(
        exists=created_day <= end,
        account=first,
        kind=np.full(size, NEW_BUSINESS),
        created_ts=created_ts,
        close=close,
        won=is_customer,
        term=term,
        start=start,
        use_case=use_case,
    )
    active = np.zeros(n, dtype=bool)
    cycle_start = np.zeros(n, dtype=np.int64)
    cycle_term = np.zeros(n, dtype=np.int64)
    anchor = np.full(n, -1)
    became_customer = is_customer & (close <= end) & (created_day <= end)
    customers = first[became_customer]
    active[customers] = True
    cycle_start[customers] = np.where(start >= 0, start, close)[became_customer]
    cycle_term[customers] = term[became_customer]
    anchor[customers] = first_ids[became_customer]

    for _ in range(12):  # contract terms; three years of history need far fewer
        ids = np.flatnonzero(active)
        if ids.size == 0:
            break
        size = ids.size
        term_start = cycle_start[ids]
        term_end = _term_end(term_start, cycle_term[ids])

        # Reorders and upgrades within the term, early and late.
        for low, high, share in ((0.08, 0.45, 0.40), (0.50, 0.90, 0.25)):
            happens = rng.random(size) < share
            close = term_start + ((term_end - term_start) * rng.uniform(low, high, size)).astype(
                np.int64
            )
            created_day = np.maximum(close - sales_cycle(size, 25, 5, 90), term_start)
            is_upgrade = rng.random(size) < 0.35
            kind = np.where(is_upgrade, UPGRADE, REORDER)
            use_case = np.where(
                is_upgrade,
                np.where(rng.random(size) < 0.4, UC_UPGRADE, UC_EMPTY),
                np.where(rng.random(size) < 0.5, UC_REORDER, UC_EMPTY),
            )
            upgrade_start = np.where(
                rng.random(size) < 0.5,
                _first_of_next_month(close),
                close + rng.integers(0, 21, size),
            )
            emit(
                exists=happens & (created_day <= end),
                account=ids,
                kind=kind,
                created_ts=created_day * DAY_SECONDS + _business_seconds(rng, size),
                close=close,
                won=rng.random(size) < 0.85,
                term=np.where(is_upgrade, term_choice(size), 12),
                start=np.where(is_upgrade, upgrade_start, -1),
                use_case=use_case,
                anchor=anchor[ids],
            )

        # Renewal opportunity, opened some weeks before the term ends.
        has_renewal_deal = rng.random(size) >= 0.03
        renewal_created = term_end - rng.integers(45, 121, size)
        renewal_close = np.maximum(term_end - rng.integers(0, 31, size), renewal_created + 7)
        renewal_won = rng.random(size) < 0.9
        renewal_term = np.where(rng.random(size) < 0.75, cycle_term[ids], term_choice(size))
        renewal_exists = has_renewal_deal & (renewal_created <= end)
        renewal_ids = emit(
            exists=renewal_exists,
            account=ids,
            kind=np.full(size, RENEWAL),
            created_ts=renewal_created * DAY_SECONDS + _business_seconds(rng, size),
            close=renewal_close,
            won=renewal_won,
            term=renewal_term,
            start=term_end + 1,
            use_case=np.where(rng.random(size) < 0.3, UC_NEW, UC_EMPTY),
            prev_anchor=anchor[ids],
        )
        renewed = renewal_exists & renewal_won & (renewal_close <= end)
        churned = (term_end < end) & ~renewed & ~(renewal_exists & (renewal_close > end))

        # Some churned customers come back later with a fresh new-business deal.
        win_back = churned & (rng.random(size) < 0.25)
        win_back_created = term_end + rng.integers(60, 400, size)
        win_back_close = win_back_created + sales_cycle(size, 45, 7, 240)
        win_back_won = rng.random(size) < 0.55
        win_back_start = np.where(rng.random(size) < 0.2, _first_of_next_month(win_back_close), -1)
        win_back_term = term_choice(size)
        win_back_exists = win_back & (win_back_created <= end)
        win_back_ids = emit(
            exists=win_back_exists,
            account=ids,
            kind=np.full(size, WIN_BACK),
            created_ts=win_back_created * DAY_SECONDS + _business_seconds(rng, size),
            close=win_back_close,
            won=win_back_won,
            term=win_back_term,
            start=win_back_start,
            use_case=np.where(rng.random(size) < 0.4, UC_NEW, UC_EMPTY),
        )
        came_back = win_back_exists & win_back_won & (win_back_close <= end)

        active[ids] = renewed | came_back
        cycle_start[ids] = np.where(
            renewed, term_end + 1, np.where(win_back_start >= 0, win_back_start, win_back_close)
        )
        cycle_term[ids] = np.where(renewed, renewal_term, win_back_term)
        anchor[ids] = np.where(renewed, renewal_ids, win_back_ids)

    deals = {name: np.concatenate([b[name] for b in batches]) for name in batches[0]}
    # Ids follow creation time, as Salesforce's do; references are renumbered to match.
    order = np.lexsort((np.arange(emitted), deals["created_ts"]))
    new_number = np.empty(emitted, dtype=np.int64)
    new_number[order] = np.arange(emitted)
    deals = {name: values[order] for name, values in deals.items()}
    for reference in ("anchor", "prev_anchor"):
        deals[reference] = np.where(deals[reference] >= 0, new_number[deals[reference]], -1)
    return deals


def _opportunities(
    rng: np.random.Generator, deals: dict, acc: dict, users: dict, calendar: _Calendar
) -> dict[str, np.ndarray]:
    """Fields of each opportunity beyond the lifecycle: owner, currency, flags, and the
    window changes (close dates that slip)."""
    n = deals["account"].size
    account = deals["account"]
    kind = deals["kind"]
    created_day = deals["created_ts"] // DAY_SECONDS
    close = deals["close"]
    # Renewals go to the CSM when there is one, other deals mostly to the account owner.
    owner = np.where(rng.random(n) < 0.8, acc["owner"][account], _choose_owner(rng, users, n))
    csm = acc["csm"][account]
    owner = np.where((kind == RENEWAL) & (csm >= 0) & (rng.random(n) < 0.5), csm, owner)
    currency = np.where(rng.random(n) < 0.05, 0, acc["currency"][account])

    # Past-due deals nobody closed: open with a close date long gone.
    stale = (~deals["won"]) & (close < calendar.first - 30) & (rng.random(n) < 0.06)
    open_at_end = (close > calendar.end) | stale
    first_seen = created_day < calendar.first

    close_before = close.copy()
    slip_day = np.full(n, NEVER)
    deleted_day = np.full(n, NEVER)
    if calendar.days > 1:
        # Reps push close dates out: before slip_day the deal closed earlier, but still
        # after slip_day, so it is open in every snapshot before the push.
        candidates = np.flatnonzero(open_at_end & ~stale & first_seen & (close > calendar.end + 7))
        slipped = _sample_at_least(rng, candidates, 0.015 * (calendar.days - 1))
        slip_day[slipped] = _window_day(rng, calendar, slipped.size)
        push = np.minimum(rng.integers(7, 46, slipped.size), close[slipped] - slip_day[slipped])
        close_before[slipped] = close[slipped] - push
        # A few open deals are deleted (with their lines, schedules, splits and quotes).
        candidates = np.flatnonzero(open_at_end & first_seen & (slip_day == NEVER))
        gone = _sample_at_least(rng, candidates, 0.002 * (calendar.days - 1), minimum=3)
        deleted_day[gone] = _window_day(rng, calendar, gone.size)
    pull_day, close_later = _pulled_in(
        rng,
        calendar,
        close,
        open_at_end & ~stale & first_seen & (slip_day == NEVER) & (deleted_day == NEVER),
    )

    return {
        "account": account,
        "kind": kind,
        "created_ts": deals["created_ts"],
        "created_day": created_day,
        "close": close,
        "close_before": close_before,
        "slip_day": slip_day,
        "pull_day": pull_day,
        "close_later": close_later,
        "deleted_day": deleted_day,
        "won": deals["won"],
        "stale": stale,
        "open_at_end": open_at_end,
        "term": deals["term"],
        "start": deals["start"],
        "use_case": deals["use_case"],
        "anchor": deals["anchor"],
        "prev_anchor": deals["prev_anchor"],
        "owner": owner,
        "currency": currency,
        "potential_subscription": rng.random(n) < 0.9,
        "probability_empty": rng.random(n) < 0.03,
        "forecast_category_empty": rng.random(n) < 0.03,
        # Reps override the stage's default probability on some open deals.
        "probability_delta": np.where(rng.random(n) < 0.06, rng.choice([-10, -5, 5, 10], n), 0),
        "term_empty": rng.random(n) < 0.05,
        "amount_empty": rng.random(n) < 0.01,
        "manual_amount": np.round(rng.uniform(1_000, 60_000, n), -2),
    }


def _moves(rng: np.random.Generator) -> np.random.Generator:
    """The random stream of the pipeline's day-to-day moves (pull-ins, losses, reopenings):
    a fixed child of the world's seed, so every other record stays as the seed made it."""
    seed = rng.bit_generator.seed_seq
    return np.random.default_rng(np.random.SeedSequence(seed.entropy, spawn_key=(412,)))


def _pulled_in(
    rng: np.random.Generator, calendar: _Calendar, close: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Open deals whose close date is pulled in during the window (SPEC 4.12's moved_in
    and moved_out): before pull_day the deal closed later, at close_later."""
    pull_day = np.full(close.size, NEVER)
    close_later = close.copy()
    if calendar.days < 2:
        return pull_day, close_later
    moves = _moves(rng)
    candidates = np.flatnonzero(free & (close > calendar.end + 30))
    pulled = _sample_at_least(moves, candidates, 0.01 * (calendar.days - 1), minimum=2)
    pull_day[pulled] = _window_day(moves, calendar, pulled.size)
    close_later[pulled] = close[pulled] + moves.integers(20, 60, pulled.size)
    return pull_day, close_later


def _lose_and_reopen(rng: np.random.Generator, calendar: _Calendar, opp: dict, lines: dict) -> None:
    """Open deals lost during the window (their CloseDate set to lost_day) and a few of
    them reopened on reopen_day at the close date they had (SPEC 4.12's lost and
    reopened). Only deals whose lines stay as they are, so an amount change shows on its
    own; drawn after the pull-ins from the same stream (see _moves)."""
    n = opp["close"].size
    opp["lost_day"], opp["reopen_day"] = np.full(n, NEVER), np.full(n, NEVER)
    if calendar.days < 2:
        return
    moves = _moves(rng)
    moves.random(n)  # the pull-ins' draws come first in this stream: skip past them
    lines_change = np.zeros(n, dtype=bool)
    changing = (lines["revised_day"] < NEVER) | (lines["deleted_day"] < NEVER)
    lines_change[lines["opportunity"][changing]] = True
    free = (
        opp["open_at_end"]
        & ~opp["stale"]
        & ~opp["won"]
        & (opp["created_day"] < calendar.first)
        & (opp["slip_day"] == NEVER)
        & (opp["pull_day"] == NEVER)
        & (opp["deleted_day"] == NEVER)
        & ~lines_change
    )
    lost = _sample_at_least(moves, np.flatnonzero(free), 0.004 * (calendar.days - 1), minimum=3)
    opp["lost_day"][lost] = _window_day(moves, calendar, lost.size)
    can_reopen = lost[opp["lost_day"][lost] < calendar.end]
    if can_reopen.size:
        reopened = _sample_at_least(moves, can_reopen, 0.3)
        opp["reopen_day"][reopened] = opp["lost_day"][reopened] + moves.integers(
            1, calendar.end - opp["lost_day"][reopened] + 1
        )


def _line_items(
    rng: np.random.Generator, opp: dict, calendar: _Calendar, rates: dict[str, float]
) -> dict[str, np.ndarray]:
    """1-4 product lines per opportunity, priced in the deal's currency."""
    catalog = _product_arrays()
    n_opp = opp["kind"].size
    kind = opp["kind"]
    count_weights = {
        NEW_BUSINESS: [0.35, 0.35, 0.2, 0.1],
        WIN_BACK: [0.35, 0.35, 0.2, 0.1],
        RENEWAL: [0.5, 0.35, 0.15, 0.0],
        REORDER: [0.7, 0.3, 0.0, 0.0],
        UPGRADE: [0.5, 0.35, 0.15, 0.0],
    }
    lines_per_opp = np.zeros(n_opp, dtype=np.int64)
    for deal_kind, weights in count_weights.items():
        mask = kind == deal_kind
        lines_per_opp[mask] = 1 + _pick(rng, np.count_nonzero(mask), weights)
    # Some deals carry only a typed-in Amount, no products.
    lines_per_opp[rng.random(n_opp) < 0.02] = 0
    line_opp, position, first_line = _explode(lines_per_opp)
    n = line_opp.size
    line_kind = kind[line_opp]

    def role_products(*roles: str) -> np.ndarray:
        return np.flatnonzero(np.isin(catalog["role"], roles))

    def draw(mask: np.ndarray, role_weights: dict[str, float]) -> None:
        rows = np.flatnonzero(mask)
        role_names = list(role_weights)
        chosen_role = _pick(rng, rows.size, list(role_weights.values()))
        for r, role in enumerate(role_names):
            members = role_products(role)
            hit = rows[chosen_role == r]
            product[hit] = members[rng.integers(members.size, size=hit.size)]

    product = np.zeros(n, dtype=np.int64)
    lead = position == 0
    anchor_kinds = np.isin(line_kind, [NEW_BUSINESS, WIN_BACK])
    draw(lead & (anchor_kinds | (line_kind == RENEWAL)), {"platform": 1.0})
    draw(lead & (line_kind == UPGRADE), {"upgrade": 1.0})
    draw(
        lead & (line_kind == REORDER), {"addon": 0.5, "usage": 0.2, "services": 0.2, "support": 0.1}
    )
    draw(~lead & anchor_kinds, {"addon": 0.35, "support": 0.25, "services": 0.25, "usage": 0.15})
    draw(~lead & (line_kind == RENEWAL), {"support": 0.6, "addon": 0.4})
    draw(~lead & np.isin(line_kind, [REORDER, UPGRADE]), {"addon": 0.7, "usage": 0.3})

    # Renewals mostly renew the same platform product as the term they continue.
    previous = opp["prev_anchor"][line_opp]
    previous_lead = np.where(previous >= 0, first_line[np.maximum(previous, 0)], -1)
    previous_has_lines = (previous >= 0) & (lines_per_opp[np.maximum(previous, 0)] > 0)
    renew_same = lead & (line_kind == RENEWAL) & previous_has_lines & (rng.random(n) < 0.8)
    product[renew_same] = product[previous_lead[renew_same]]

    # The retired 151-installment product appears on a rare extra line.
    extras = np.flatnonzero(~lead & anchor_kinds)
    broken = np.flatnonzero(catalog["role"] == "broken")[0]
    product[_sample_at_least(rng, extras, 0.002)] = broken

    quantity = np.ones(n)
    model = catalog["quantity_model"][product]
    quantity = np.where(
        model == "seats", np.clip(np.round(rng.lognormal(np.log(20), 0.9, n)), 1, 2000), quantity
    )
    quantity = np.where(model == "addon_seats", rng.integers(5, 51, n), quantity)
    quantity = np.where(model == "units", np.minimum(rng.geometric(0.6, n), 10), quantity)
    quantity = np.where(model == "hours", rng.integers(4, 41, n), quantity)
    quantity = np.where(model == "usage", rng.integers(50, 2001, n), quantity)
    # A renewal of the same product keeps the term's quantity, as real renewals do: most
    # renew flat, some expand, a few shrink (rather than a fresh random seat count).
    change = np.array([1.0, 1.1, 1.25, 1.5, 0.8])[_pick(rng, n, [0.6, 0.15, 0.1, 0.05, 0.1])]
    for _ in range(12):  # a renewal of a renewal carries the carried quantity, term by term
        carried = np.maximum(1, np.round(quantity[np.maximum(previous_lead, 0)] * change))
        quantity = np.where(renew_same, carried, quantity)

    # Unit price in the deal's currency: list price, sometimes negotiated, renewals uplifted.
    # Non-usage prices are even whole numbers so every discounted net price is exact to cents.
    currency = opp["currency"][line_opp]
    fx = np.array([1.0] + [rates[c] for c in CURRENCIES[1:]])[currency]
    negotiated = 1 + np.where(rng.random(n) < 0.3, rng.choice([-0.1, -0.05, 0.05, 0.1], n), 0)
    uplift = np.where(line_kind == RENEWAL, 1.05, 1.0)
    raw_price = catalog["list_price"][product] * fx * negotiated * uplift
    discountable = catalog["discountable"][product]
    unit_price = np.where(
        discountable, np.maximum(2, np.round(raw_price / 2) * 2), np.round(raw_price, 2)
    )
    discount = np.where(
        discountable & (rng.random(n) < 0.35), rng.choice([5, 10, 12.5, 15, 20, 25], n), np.nan
    )

    # Order numbers identify a subscription item across deals: most lines carry one, and a
    # reorder or upgrade may reuse the number of an item of its term's anchor deal to
    # replace that item (a reorder with more of the same product, an upgrade to a new tier).
    order_no = np.where(rng.random(n) < 0.7, np.arange(n), -1)
    anchor_of_line = opp["anchor"][line_opp]
    anchor_lines = lines_per_opp[anchor_of_line]
    anchor_first = first_line[anchor_of_line]
    same_currency = opp["currency"][line_opp] == opp["currency"][anchor_of_line]
    reorder_reuse = (
        lead & (line_kind == REORDER) & (anchor_lines > 0) & same_currency & (rng.random(n) < 0.3)
    )
    source = anchor_first + np.minimum(1, np.maximum(anchor_lines - 1, 0))
    reorder_reuse &= order_no[np.where(reorder_reuse, source, 0)] >= 0
    hit = np.flatnonzero(reorder_reuse)
    order_no[hit] = order_no[source[hit]]
    product[hit] = product[source[hit]]
    quantity[hit] = quantity[source[hit]] + rng.integers(1, 11, hit.size)
    unit_price[hit] = unit_price[source[hit]]
    upgrade_reuse = lead & (line_kind == UPGRADE) & (anchor_lines > 0) & (rng.random(n) < 0.6)
    upgrade_reuse &= order_no[np.where(upgrade_reuse, anchor_first, 0)] >= 0
    hit = np.flatnonzero(upgrade_reuse)
    order_no[hit] = order_no[anchor_first[hit]]

    total = np.round(quantity * unit_price * (1 - np.nan_to_num(discount) / 100), 2)
    opp_start = np.where(opp["start"] >= 0, opp["start"], opp["close"])[line_opp]
    service_date = np.where(rng.random(n) < 0.2, opp_start + rng.integers(0, 21, n), -1)
    exclude_draw = rng.random(n)
    exclude = np.where(exclude_draw < 0.03, 1, np.where(exclude_draw < 0.10, 0, -1))

    # Window change: a few open deals get a different quantity on their first line.
    quantity_before = quantity.copy()
    revised_day = np.full(n, NEVER)
    deleted_day = np.full(n, NEVER)
    if calendar.days > 1:
        still_open = (
            opp["open_at_end"]
            & (opp["created_day"] < calendar.first)
            & (opp["deleted_day"] == NEVER)
        )[line_opp]
        candidates = np.flatnonzero(
            lead & still_open & (catalog["quantity_model"][product] != "single")
        )
        revised = _sample_at_least(rng, candidates, 0.01 * (calendar.days - 1))
        revised_day[revised] = _window_day(rng, calendar, revised.size)
        change = rng.integers(1, 6, revised.size)
        quantity_before[revised] = np.where(
            quantity[revised] > change, quantity[revised] - change, quantity[revised] + change
        )
        # ...and a few extra lines are removed from open deals.
        candidates = np.flatnonzero(~lead & still_open)
        gone = _sample_at_least(rng, candidates, 0.002 * (calendar.days - 1))
        deleted_day[gone] = _window_day(rng, calendar, gone.size)
    total_before = np.round(quantity_before * unit_price * (1 - np.nan_to_num(discount) / 100), 2)

    # When the line's recurring item would end (for order items): start + term − 1 day.
    line_start = np.where(service_date >= 0, service_date, opp_start)
    installments = catalog["revenue_installments"][product]
    step_days = catalog["revenue_step_days"][product]
    opp_term = opp["term"][line_opp]
    scheduled_end = np.where(
        step_days > 0,
        line_start + installments * step_days - 1,
        _term_end(line_start, installments * catalog["revenue_step_months"][product]),
    )
    item_end = np.where(
        catalog["has_revenue_schedule"][product] & (installments <= 150),
        scheduled_end,
        np.where(catalog["is_recurring"][product], _term_end(line_start, opp_term), line_start),
    )
    item_end = np.where(catalog["is_one_time"][product], line_start, item_end)

    return {
        "opportunity": line_opp,
        "position": position,
        "first_line": first_line,
        "lines_per_opp": lines_per_opp,
        "product": product,
        "quantity": quantity,
        "quantity_before": quantity_before,
        "unit_price": unit_price,
        "discount": discount,
        "total": total,
        "total_before": total_before,
        "revised_day": revised_day,
        "deleted_day": deleted_day,
        "service_date": service_date,
        "order_no": order_no,
        "exclude": exclude,
        "start": line_start,
        "item_end": item_end,
        "net_unit_price": np.round(unit_price * (1 - np.nan_to_num(discount) / 100), 2),
    }


def _line_schedules(rng: np.random.Generator, lines: dict, opp: dict) -> dict[str, np.ndarray]:
    """Explicit OpportunityLineItemSchedule rows for ~3% of lines, summing to the line."""
    catalog = _product_arrays()
    product = lines["product"]
    schedulable = (
        catalog["has_revenue_schedule"][product] | catalog["has_quantity_schedule"][product]
    )
    stable = (
        (lines["revised_day"] == NEVER)
        & (lines["deleted_day"] == NEVER)
        & (opp["slip_day"][lines["opportunity"]] == NEVER)
    )
    candidates = np.flatnonzero(schedulable & stable & (catalog["role"][product] != "broken"))
    chosen = _sample_at_least(rng, candidates, 0.03, minimum=min(6, candidates.size))
    on_deleted_deal = candidates[opp["deleted_day"][lines["opportunity"][candidates]] < NEVER]
    chosen = np.union1d(chosen, on_deleted_deal[:1])
    # Type: Revenue, Quantity (only where the product has quantity schedules) or Both.
    schedule_type = _pick(rng, chosen.size, [0.6, 0.25, 0.15])
    schedule_type[:2] = [0, 2][: chosen.size]  # every type shows up even in a small sample
    can_quantity = catalog["has_quantity_schedule"][product[chosen]]
    schedule_type = np.where((schedule_type == 1) & ~can_quantity, 0, schedule_type)
    quantity_candidates = np.setdiff1d(
        candidates[catalog["has_quantity_schedule"][product[candidates]]], chosen
    )
    if not np.any(schedule_type == 1) and quantity_candidates.size:
        chosen = np.append(chosen, quantity_candidates[rng.integers(quantity_candidates.size)])
        schedule_type = np.append(schedule_type, 1)
    by_line = np.argsort(chosen, kind="stable")
    chosen, schedule_type = chosen[by_line], schedule_type[by_line]
    size = chosen.size
    chosen_product = product[chosen]
    by_quantity = schedule_type == 1
    period = np.where(
        by_quantity,
        catalog["quantity_period"][chosen_product],
        catalog["revenue_period"][chosen_product],
    )
    installments = np.where(
        by_quantity,
        catalog["quantity_installments"][chosen_product],
        catalog["revenue_installments"][chosen_product],
    )
    period = np.where(installments > 0, period, "Monthly")
    installments = np.where(installments > 0, np.minimum(installments, 150), 12)

    row_line, k, _ = _explode(installments)
    n_rows = installments[row_line]
    is_last = k == n_rows - 1
    # Split in cents (hundredths of a unit); the last installment takes the remainder.
    total_cents = np.round(lines["total"][chosen] * 100).astype(np.int64)[row_line]
    revenue_cents = np.where(
        is_last, total_cents - (total_cents // n_rows) * (n_rows - 1), total_cents // n_rows
    )
    quantity_hundredths = np.round(lines["quantity"][chosen] * 100).astype(np.int64)[row_line]
    quantity_split = np.where(
        is_last,
        quantity_hundredths - (quantity_hundredths // n_rows) * (n_rows - 1),
        quantity_hundredths // n_rows,
    )
    row_type = schedule_type[row_line]
    return {
        "line": chosen[row_line],
        "type": row_type,  # 0 Revenue, 1 Quantity, 2 Both
        "date": _installment_dates(lines["start"][chosen][row_line], k, period[row_line]),
        "revenue": np.where(row_type != 1, revenue_cents / 100, np.nan),
        "quantity": np.where(row_type != 0, quantity_split / 100, np.nan),
        "described": (rng.random(size) < 0.2)[row_line],
    }


def _splits(rng: np.random.Generator, opp: dict, users: dict) -> dict[str, np.ndarray]:
    """Opportunity splits: MRR splits on ~10% of deals (a few not adding up to 100) and an
    overlay Amount split on some of them."""
    n_opp = opp["kind"].size
    n_users = users["is_active"].size
    split_opps = _sample_at_least(rng, np.arange(n_opp), 0.10, minimum=min(5, n_opp))
    # Deleted deals have splits too, so the deletion reaches every child object.
    split_opps = np.union1d(split_opps, np.flatnonzero(opp["deleted_day"] < NEVER))
    patterns = [(50, 50), (60, 40), (70, 30), (80, 20), (50, 25, 25), (40, 30, 30)]
    invalid_patterns = [(60, 30), (50, 60), (40, 40, 30)]
    pattern_index = rng.integers(len(patterns), size=split_opps.size)
    invalid = np.zeros(split_opps.size, dtype=bool)
    invalid[_sample_at_least(rng, np.arange(split_opps.size), 0.03)] = True
    invalid_index = rng.integers(len(invalid_patterns), size=split_opps.size)
    table = np.zeros((len(patterns) + len(invalid_patterns), 3))
    for row, pattern in enumerate(patterns + invalid_patterns):
        table[row, : len(pattern)] = pattern
    chosen = np.where(invalid, len(patterns) + invalid_index, pattern_index)
    rows_per_opp = np.count_nonzero(table[chosen] > 0, axis=1)
    parent, position, _ = _explode(rows_per_opp)
    percentage = table[chosen[parent], position]
    # Split owners: the deal owner first, then two other distinct users.
    half = max(n_users // 2, 2)
    second = rng.integers(1, half, size=split_opps.size)
    third = second + rng.integers(1, max(half - 1, 2), size=split_opps.size)
    offsets = np.stack([np.zeros_like(second), second, third], axis=1)
    owner = (opp["owner"][split_opps][parent] + offsets[parent, position]) % n_users
    split_type = np.zeros(parent.size, dtype=np.int64)

    overlay = rng.random(split_opps.size) < 0.4
    overlay_opps = np.flatnonzero(overlay)
    opps = np.concatenate([split_opps[parent], split_opps[overlay_opps]])
    owners = np.concatenate(
        [
            owner,
            (
                opp["owner"][split_opps[overlay_opps]]
                + 1
                + rng.integers(n_users - 1, size=overlay_opps.size)
            )
            % n_users,
        ]
    )
    percentages = np.concatenate([percentage, rng.choice([10, 15, 20, 25, 50], overlay_opps.size)])
    types = np.concatenate([split_type, np.ones(overlay_opps.size, dtype=np.int64)])
    order = np.lexsort((types, opps))
    return {
        "opportunity": opps[order],
        "owner": owners[order],
        "percentage": percentages[order].astype(np.float64),
        "type": types[order],
    }


def _quotes(rng: np.random.Generator, opp: dict) -> dict[str, np.ndarray]:
    """A quote on most deals, sometimes an earlier superseded one too."""
    n_opp = opp["kind"].size
    quotes_per_opp = np.where((rng.random(n_opp) < 0.8) | (opp["deleted_day"] < NEVER), 1, 0)
    quotes_per_opp += (quotes_per_opp > 0) & (rng.random(n_opp) < 0.15)
    parent, position, _ = _explode(quotes_per_opp)
    latest = position == quotes_per_opp[parent] - 1
    n = parent.size
    # Quoted some way into the sales cycle, before the earliest close date the deal had.
    created_day = opp["created_day"][parent]
    earliest_close = np.minimum(opp["close"], opp["close_before"])[parent]
    cycle = np.maximum(earliest_close - created_day, 0)
    share = np.where(latest, rng.uniform(0.3, 0.8, n), rng.uniform(0.05, 0.3, n))
    quote_day = created_day + (cycle * share).astype(np.int64)
    created_ts = np.maximum(
        quote_day * DAY_SECONDS + _business_seconds(rng, n), opp["created_ts"][parent] + 60
    )
    is_syncing = latest & (rng.random(n) < np.where(opp["won"][parent], 0.9, 0.7))
    deleted_day = np.full(n, NEVER)
    return {
        "opportunity": parent,
        "latest": latest,
        "created_ts": created_ts,
        "created_day": created_ts // DAY_SECONDS,
        "is_syncing": is_syncing,
        "deleted_day": deleted_day,
        "markup": rng.choice([1.0, 1.05, 1.1], n),
    }


def _orders_and_contracts(
    rng: np.random.Generator, opp: dict, lines: dict, acc: dict, calendar: _Calendar
) -> tuple[dict, dict, dict]:
    """Contracts for won new-business, win-back and renewal deals; orders for most won deals
    (activated, some late, some still draft, some cancelled) and their items."""
    end = calendar.end
    won_closed = opp["won"] & ~opp["stale"] & (opp["close"] <= end)
    opp_start = np.where(opp["start"] >= 0, opp["start"], opp["close"])
    term = opp["term"]

    # Contracts: one per won anchor deal, created within a couple of days of closing.
    is_anchor = np.isin(opp["kind"], [NEW_BUSINESS, WIN_BACK, RENEWAL])
    contract_opps = np.flatnonzero(won_closed & is_anchor & (rng.random(won_closed.size) < 0.9))
    size = contract_opps.size
    contract_created = opp["close"][contract_opps] + rng.integers(0, 3, size)
    exists = contract_created <= end
    contract_opps, contract_created = contract_opps[exists], contract_created[exists]
    size = contract_opps.size
    contract_start = opp_start[contract_opps]
    contract_term = term[contract_opps]
    computed_end = _term_end(contract_start, contract_term)
    has_end = rng.random(size) < 0.75
    contracts = {
        "opportunity": contract_opps,
        "account": opp["account"][contract_opps],
        "created_day": contract_created,
        "activated_ts": contract_created * DAY_SECONDS + _business_seconds(rng, size),
        "is_draft": rng.random(size) < 0.05,
        "start": contract_start,
        "term": contract_term,
        "end": np.where(has_end, computed_end, -1),
        "effective_end": computed_end,
        "notice": np.where(rng.random(size) < 0.75, rng.choice([30, 60, 90], size), -1),
    }
    contract_of_opp = np.full(opp["kind"].size, -1)
    contract_of_opp[contract_opps] = np.arange(size)

    # Orders.
    order_opps = np.flatnonzero(won_closed & (rng.random(won_closed.size) < 0.88))
    size = order_opps.size
    contract = contract_of_opp[opp["anchor"][order_opps]]
    # Index -1 ("no contract") reads the appended 0: such orders wait for nothing.
    contract_day = np.append(contracts["created_day"], 0)[contract]
    created_day = np.maximum(opp["close"][order_opps] + rng.integers(0, 6, size), contract_day)
    exists = created_day <= end
    order_opps, contract, created_day = order_opps[exists], contract[exists], created_day[exists]
    size = order_opps.size
    contract = np.where(contract_day[exists] <= created_day, contract, -1)
    outcome = _pick(rng, size, [0.86, 0.07, 0.07])  # activated, left in draft, cancelled
    # A customer whose first and only order was cancelled is still a new logo later.
    account = opp["account"][order_opps]
    orders_per_account = np.bincount(account, minlength=acc["lifecycle"].size)
    lonely = np.flatnonzero(
        (orders_per_account[account] == 1) & (opp["kind"][order_opps] == NEW_BUSINESS)
    )
    outcome[_sample_at_least(rng, lonely, 0.05)] = 2
    late = rng.random(size) < 0.25
    activation_lag = np.where(late, rng.integers(14, 121, size), rng.integers(0, 8, size))
    activated_day = np.where(outcome == 0, created_day + activation_lag, NEVER)
    if calendar.days > 1:
        # Orders waiting in the queue get activated during the window too.
        waiting = np.flatnonzero(
            (outcome == 0) & (created_day < calendar.first) & (activated_day >= calendar.first)
        )
        if waiting.size == 0:
            waiting = np.flatnonzero((outcome == 0) & (created_day < calendar.first - 14))
        now = _sample_at_least(rng, waiting, 0.0)
        activated_day[now] = _window_day(rng, calendar, now.size)
    cancelled_day = np.where(outcome == 2, created_day + rng.integers(3, 31, size), NEVER)
    effective = opp_start[order_opps]
    orders = {
        "opportunity": order_opps,
        "account": account,
        "contract": contract,
        "kind": opp["kind"][order_opps],
        "created_ts": created_day * DAY_SECONDS + _business_seconds(rng, size),
        "created_day": created_day,
        "activated_day": activated_day,
        "activated_ts": activated_day * DAY_SECONDS + _business_seconds(rng, size),
        "cancelled_day": cancelled_day,
        "effective": effective,
        "end": np.where(
            rng.random(size) < 0.8,
            _term_end(effective, np.where(term[order_opps] > 0, term[order_opps], 12)),
            -1,
        ),
    }

    # Order items mirror the deal's lines; the CSM adjusts some (quantity or price).
    order_of_opp = np.full(opp["kind"].size, -1)
    order_of_opp[order_opps] = np.arange(size)
    line_ids = np.flatnonzero(
        (order_of_opp[lines["opportunity"]] >= 0) & (lines["deleted_day"] == NEVER)
    )
    item_order = order_of_opp[lines["opportunity"][line_ids]]
    n_items = line_ids.size
    quantity = lines["quantity"][line_ids].copy()
    unit_price = lines["net_unit_price"][line_ids].copy()
    adjusted_orders = rng.random(size) < 0.1
    first_item = lines["position"][line_ids] == 0
    adjust = adjusted_orders[item_order] & first_item
    by_quantity = rng.random(n_items) < 0.6
    quantity = np.where(adjust & by_quantity, quantity + rng.integers(1, 6, n_items), quantity)
    unit_price = np.where(adjust & ~by_quantity, np.round(unit_price * 0.95, 2), unit_price)
    items = {
        "order": item_order,
        "line": line_ids,
        "product": lines["product"][line_ids],
        "quantity": quantity,
        "unit_price": unit_price,
        "service_date": lines["start"][line_ids],
        "end": np.where(rng.random(n_items) < 0.8, lines["item_end"][line_ids], -1),
    }
    return contracts, orders, items


def _conversion_rates(rng: np.random.Generator, calendar: _Calendar) -> dict[str, np.ndarray]:
    """Quarterly dated rates per currency (units per 1 USD), a random walk around a base."""
    # Periods start on quarter starts, from before the oldest deal to the last snapshot.
    first_month = np.datetime64(calendar.history_start - 120, "D").astype("datetime64[M]")
    first_quarter = first_month - first_month.astype(np.int64) % 3
    last_month = np.datetime64(calendar.end, "D").astype("datetime64[M]")
    starts = np.arange(first_quarter, last_month + 1, 3).astype("datetime64[D]").astype(np.int64)
    walks = {
        code: np.round(base * np.exp(np.cumsum(rng.normal(0, 0.02, starts.size))), 6)
        for code, base in BASE_RATES.items()
    }
    return {
        "iso": np.repeat(list(walks), starts.size),
        "rate": np.concatenate(list(walks.values())),
        "start": np.tile(starts, len(walks)),
        "latest_rates": {code: float(walk[-1]) for code, walk in walks.items()},
    }


def _build_world(rng: np.random.Generator, accounts: int, calendar: _Calendar) -> _World:
    """Every record of the CRM's history; the draw order is fixed, so a seed fixes it all."""
    users = _users(rng, accounts)
    rates = _conversion_rates(rng, calendar)
    acc = _accounts(rng, accounts, calendar, users)
    deals = _deals(rng, acc, calendar)
    opp = _opportunities(rng, deals, acc, users, calendar)
    lines = _line_items(rng, opp, calendar, rates["latest_rates"])
    _lose_and_reopen(rng, calendar, opp, lines)
    schedules = _line_schedules(rng, lines, opp)
    splits = _splits(rng, opp, users)
    quotes = _quotes(rng, opp)
    contracts, orders, items = _orders_and_contracts(rng, opp, lines, acc, calendar)
    if calendar.days > 1:
        # A few superseded quotes of open deals are deleted during the window.
        superseded = np.flatnonzero(
            ~quotes["latest"]
            & opp["open_at_end"][quotes["opportunity"]]
            & (quotes["created_day"] < calendar.first)
        )
        gone = _sample_at_least(rng, superseded, 0.01 * (calendar.days - 1))
        quotes["deleted_day"][gone] = _window_day(rng, calendar, gone.size)

    names = _account_frame(acc)
    account_short_name = names["short_name"]
    frames = {
        "User": pl.DataFrame(
            {
                "row": np.arange(users["is_active"].size),
                "Name": _gather(FIRST_NAMES, users["first"])
                + " "
                + _gather(LAST_NAMES, users["last"]),
                "IsActive": users["is_active"],
            }
        ),
        "Account": names.drop("short_name").with_columns(
            BillingCountry=_gather(
                COUNTRIES + (None,), np.where(acc["has_country"], acc["country"], len(COUNTRIES))
            ),
            parent=acc["parent"],
            owner=acc["owner"],
            csm=acc["csm"],
            master=acc["master"],
            IsDeleted=acc["is_deleted"],
            created_ts=acc["created_ts"],
        ),
        "Opportunity": pl.DataFrame(
            {
                "row": np.arange(opp["kind"].size),
                "account": opp["account"],
                "Name": account_short_name.gather(opp["account"])
                + " - "
                + _gather(DEAL_LABEL, opp["kind"]),
                "Type": _gather(OPPORTUNITY_TYPE, opp["kind"]),
                "owner": opp["owner"],
                "CurrencyIsoCode": _gather(CURRENCIES, opp["currency"]),
                "created_ts": opp["created_ts"],
                "Create_Potential_Subscription__c": opp["potential_subscription"],
                "Use_Case__c": _gather(USE_CASES, opp["use_case"]),
                "start": opp["start"],
                "Term_Months__c": np.where(opp["term_empty"], -1, opp["term"]),
            }
        ),
        "OpportunityLineItem": pl.DataFrame(
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
        ),
        "OpportunityLineItemSchedule": pl.DataFrame(
            {
                "row": np.arange(schedules["line"].size),
                "line": schedules["line"],
                "Type": _gather(("Revenue", "Quantity", "Both"), schedules["type"]),
                "date": schedules["date"],
                "Quantity": schedules["quantity"],
                "Revenue": schedules["revenue"],
                "Description": _gather(
                    (None, "Custom schedule agreed with the customer"),
                    schedules["described"].astype(np.int64),
                ),
            }
        ),
        "OpportunitySplit": pl.DataFrame(
            {
                "row": np.arange(splits["opportunity"].size),
                "opportunity": splits["opportunity"],
                "owner": splits["owner"],
                "SplitPercentage": splits["percentage"],
                "split_type": splits["type"],
            }
        ),
        "Quote": pl.DataFrame(
            {
                "row": np.arange(quotes["opportunity"].size),
                "opportunity": quotes["opportunity"],
                "created_ts": quotes["created_ts"],
                "IsSyncing": quotes["is_syncing"],
                "expiration": quotes["created_day"] + 30,
            }
        ),
        "Order": pl.DataFrame(
            {
                "row": np.arange(orders["opportunity"].size),
                "account": orders["account"],
                "opportunity": orders["opportunity"],
                "contract": orders["contract"],
                "Type": _gather(ORDER_TYPE, orders["kind"]),
                "effective": orders["effective"],
                "end": orders["end"],
                "created_ts": orders["created_ts"],
            }
        ),
        "OrderItem": pl.DataFrame(
            {
                "row": np.arange(items["order"].size),
                "order": items["order"],
                "product": items["product"],
                "Quantity": items["quantity"],
                "UnitPrice": items["unit_price"],
                "service_date": items["service_date"],
                "end": items["end"],
            }
        ),
        "Contract": pl.DataFrame(
            {
                "row": np.arange(contracts["account"].size),
                "account": contracts["account"],
                "start": contracts["start"],
                "ContractTerm": contracts["term"],
                "end": contracts["end"],
                "notice": contracts["notice"],
            }
        ),
        "Product2": _product_frame(),
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
    return _World(calendar=calendar, frames=frames, arrays=arrays)


def _product_frame() -> pl.DataFrame:
    def schedule(p: _Product, kind: str, position: int):
        value = getattr(p, f"{kind}_schedule")
        return value[position] if value else None

    return pl.DataFrame(
        {
            "row": list(range(len(PRODUCTS))),
            "Name": [p.name for p in PRODUCTS],
            "ProductCode": [p.code for p in PRODUCTS],
            "Family": [p.family for p in PRODUCTS],
            "IsActive": [p.is_active for p in PRODUCTS],
            "Charge_Type__c": [p.charge_type for p in PRODUCTS],
            "CanUseQuantitySchedule": [p.quantity_schedule is not None for p in PRODUCTS],
            "QuantityScheduleType": [schedule(p, "quantity", 0) for p in PRODUCTS],
            "QuantityInstallmentPeriod": [schedule(p, "quantity", 1) for p in PRODUCTS],
            "NumberOfQuantityInstallments": [schedule(p, "quantity", 2) for p in PRODUCTS],
            "CanUseRevenueSchedule": [p.revenue_schedule is not None for p in PRODUCTS],
            "RevenueScheduleType": [schedule(p, "revenue", 0) for p in PRODUCTS],
            "RevenueInstallmentPeriod": [schedule(p, "revenue", 1) for p in PRODUCTS],
            "NumberOfRevenueInstallments": [schedule(p, "revenue", 2) for p in PRODUCTS],
            "Exclude_From_Upgrade__c": [p.exclude_from_upgrade for p in PRODUCTS],
        },
        schema_overrides={
            "NumberOfQuantityInstallments": pl.Int64,
            "NumberOfRevenueInstallments": pl.Int64,
        },
    )


# --------------------------------------------------------------------------------------
# One snapshot: what exists on a day, moving fields as of that day, formatted for the CSV
# --------------------------------------------------------------------------------------


def _sf_id(object_name: str, column: str) -> pl.Expr:
    """Salesforce-style 18-character Id from a 0-based row number (-1 = no reference)."""
    return pl.when(pl.col(column) >= 0).then(
        pl.lit(ID_PREFIX[object_name]) + (pl.col(column) + 1).cast(pl.String).str.zfill(15)
    )


def _date(column: str) -> pl.Expr:
    """Epoch day (-1 = empty) as a date."""
    return pl.when(pl.col(column) >= 0).then(pl.col(column).cast(pl.Int32).cast(pl.Date))


def _datetime(column: str) -> pl.Expr:
    """Epoch seconds (-1 = empty) as a UTC datetime."""
    return pl.when(pl.col(column) >= 0).then(pl.from_epoch(pl.col(column), time_unit="s"))


def _optional_int(column: str) -> pl.Expr:
    return pl.when(pl.col(column) >= 0).then(pl.col(column))


def _exists(arrays: dict, day: int, created: str = "created_day") -> np.ndarray:
    return (arrays[created] <= day) & (arrays["deleted_day"] > day)


def _snapshot(world: _World, day: int) -> Iterator[tuple[str, pl.DataFrame]]:
    """Each object's rows as exported on `day`, with SPEC §2 columns in order."""
    frames, arrays = world.frames, world.arrays
    acc, opp, lines = arrays["Account"], arrays["Opportunity"], arrays["OpportunityLineItem"]

    yield (
        "Account",
        frames["Account"]
        .filter(_exists(acc, day))
        .select(
            _sf_id("Account", "row").alias("Id"),
            "Name",
            "Website",
            "BillingCountry",
            _sf_id("Account", "parent").alias("ParentId"),
            _sf_id("User", "owner").alias("OwnerId"),
            _sf_id("User", "csm").alias("CSM__c"),
            _sf_id("Account", "master").alias("MasterRecordId"),
            "IsDeleted",
            _datetime("created_ts").alias("CreatedDate"),
        ),
    )

    yield (
        "Product2",
        frames["Product2"].select(
            _sf_id("Product2", "row").alias("Id"), *OBJECT_FIELDS["Product2"][1:]
        ),
    )

    # Opportunity state as of the day.
    opp_present = _exists(opp, day) & (acc["deleted_day"][opp["account"]] > day)
    close = np.where(opp["slip_day"] <= day, opp["close"], opp["close_before"])
    pulled_later = (opp["pull_day"] < NEVER) & (opp["pull_day"] > day)
    close = np.where(pulled_later, opp["close_later"], close)
    # Lost on lost_day (CloseDate that day) until reopened at the close date it had.
    lost = (opp["lost_day"] <= day) & (opp["reopen_day"] > day)
    close = np.where(lost, opp["lost_day"], close)
    is_closed = ((close <= day) & ~opp["stale"]) | lost
    is_won = is_closed & opp["won"] & ~lost
    progress = (day - opp["created_day"]) / np.maximum(close - opp["created_day"], 1)
    stage = np.searchsorted([0.25, 0.5, 0.75], progress, side="right")
    stage = np.where(opp["stale"], 3, stage)
    stage = np.where(is_closed, np.where(is_won, CLOSED_WON, CLOSED_LOST), stage)
    probability = STAGE_PROBABILITY[stage] + np.where(is_closed, 0, opp["probability_delta"])
    probability = np.where(opp["probability_empty"], -1, np.clip(probability, 0, 100))
    forecast_category = np.where(
        opp["forecast_category_empty"], len(STAGE_FORECAST_CATEGORY), stage
    )

    line_present = opp_present[lines["opportunity"]] & (lines["deleted_day"] > day)
    revised = lines["revised_day"] > day
    line_quantity = np.where(revised, lines["quantity_before"], lines["quantity"])
    line_total = np.where(revised, lines["total_before"], lines["total"])
    amount = np.round(
        np.bincount(
            lines["opportunity"][line_present],
            weights=line_total[line_present],
            minlength=opp_present.size,
        ),
        2,
    )
    amount = np.where(lines["lines_per_opp"] == 0, opp["manual_amount"], amount)
    amount = np.where(opp["amount_empty"], np.nan, amount)

    yield (
        "Opportunity",
        frames["Opportunity"]
        .with_columns(
            StageName=_gather(STAGES, stage),
            close=close,
            Amount=amount,
            probability=probability,
            ForecastCategoryName=_gather(STAGE_FORECAST_CATEGORY + (None,), forecast_category),
            IsClosed=is_closed,
            IsWon=is_won,
        )
        .filter(opp_present)
        .select(
            _sf_id("Opportunity", "row").alias("Id"),
            _sf_id("Account", "account").alias("AccountId"),
            "Name",
            "StageName",
            _date("close").alias("CloseDate"),
            pl.col("Amount").fill_nan(None),
            _optional_int("probability").alias("Probability"),
            "ForecastCategoryName",
            "IsClosed",
            "IsWon",
            "Type",
            _sf_id("User", "owner").alias("OwnerId"),
            "CurrencyIsoCode",
            _datetime("created_ts").alias("CreatedDate"),
            "Create_Potential_Subscription__c",
            "Use_Case__c",
            _date("start").alias("Start_Date__c"),
            _optional_int("Term_Months__c").alias("Term_Months__c"),
        ),
    )

    yield (
        "OpportunityLineItem",
        frames["OpportunityLineItem"]
        .with_columns(
            Quantity=line_quantity,
            TotalPrice=line_total,
        )
        .filter(line_present)
        .select(
            _sf_id("OpportunityLineItem", "row").alias("Id"),
            _sf_id("Opportunity", "opportunity").alias("OpportunityId"),
            _sf_id("Product2", "product").alias("Product2Id"),
            "Quantity",
            "UnitPrice",
            pl.col("Discount").fill_nan(None),
            "TotalPrice",
            _date("service_date").alias("ServiceDate"),
            pl.when(pl.col("order_no") >= 0)
            .then(pl.lit("SO-") + (pl.col("order_no") + 1).cast(pl.String).str.zfill(8))
            .alias("Order_No__c"),
            pl.when(pl.col("exclude") >= 0)
            .then(pl.col("exclude") == 1)
            .alias("Exclude_From_Upgrade__c"),
        ),
    )

    schedules = arrays["OpportunityLineItemSchedule"]
    yield (
        "OpportunityLineItemSchedule",
        frames["OpportunityLineItemSchedule"]
        .filter(line_present[schedules["line"]])
        .select(
            _sf_id("OpportunityLineItemSchedule", "row").alias("Id"),
            _sf_id("OpportunityLineItem", "line").alias("OpportunityLineItemId"),
            "Type",
            _date("date").alias("ScheduleDate"),
            pl.col("Quantity").fill_nan(None),
            pl.col("Revenue").fill_nan(None),
            "Description",
        ),
    )

    yield (
        "OpportunitySplitType",
        frames["OpportunitySplitType"].select(
            _sf_id("OpportunitySplitType", "row").alias("Id"),
            "DeveloperName",
            "SplitField",
            "IsTotalValidated",
        ),
    )

    split = frames["OpportunitySplit"]
    yield (
        "OpportunitySplit",
        split.filter(opp_present[split["opportunity"].to_numpy()]).select(
            _sf_id("OpportunitySplit", "row").alias("Id"),
            _sf_id("Opportunity", "opportunity").alias("OpportunityId"),
            _sf_id("User", "owner").alias("SplitOwnerId"),
            "SplitPercentage",
            _sf_id("OpportunitySplitType", "split_type").alias("SplitTypeId"),
        ),
    )

    quotes = arrays["Quote"]
    quote_opp = quotes["opportunity"]
    quote_status = np.where(
        quotes["latest"] & is_won[quote_opp],
        2,
        np.where(is_closed[quote_opp] | (stage[quote_opp] >= 2) | ~quotes["latest"], 1, 0),
    )
    grand_total = np.where(
        quotes["is_syncing"],
        amount[quote_opp],
        np.round(np.nan_to_num(amount[quote_opp]) * quotes["markup"], 2),
    )
    yield (
        "Quote",
        frames["Quote"]
        .with_columns(
            Status=_gather(("Draft", "Presented", "Accepted"), quote_status),
            GrandTotal=grand_total,
        )
        .filter(_exists(quotes, day) & opp_present[quote_opp])
        .select(
            _sf_id("Quote", "row").alias("Id"),
            _sf_id("Opportunity", "opportunity").alias("OpportunityId"),
            "Status",
            _date("expiration").alias("ExpirationDate"),
            "IsSyncing",
            pl.col("GrandTotal").fill_nan(None),
            _datetime("created_ts").alias("CreatedDate"),
        ),
    )

    orders = arrays["Order"]
    order_present = orders["created_day"] <= day
    order_status = np.where(
        orders["cancelled_day"] <= day, 2, np.where(orders["activated_day"] <= day, 1, 0)
    )
    yield (
        "Order",
        frames["Order"]
        .with_columns(
            Status=_gather(("Draft", "Activated", "Cancelled"), order_status),
            activated_ts=np.where(order_status == 1, orders["activated_ts"], -1),
        )
        .filter(order_present)
        .select(
            _sf_id("Order", "row").alias("Id"),
            _sf_id("Account", "account").alias("AccountId"),
            _sf_id("Opportunity", "opportunity").alias("OpportunityId"),
            _sf_id("Contract", "contract").alias("ContractId"),
            "Status",
            "Type",
            _date("effective").alias("EffectiveDate"),
            _date("end").alias("EndDate"),
            _datetime("activated_ts").alias("ActivatedDate"),
            _datetime("created_ts").alias("CreatedDate"),
        ),
    )

    items = arrays["OrderItem"]
    yield (
        "OrderItem",
        frames["OrderItem"]
        .filter(order_present[items["order"]])
        .select(
            _sf_id("OrderItem", "row").alias("Id"),
            _sf_id("Order", "order").alias("OrderId"),
            _sf_id("Product2", "product").alias("Product2Id"),
            "Quantity",
            "UnitPrice",
            _date("service_date").alias("ServiceDate"),
            _date("end").alias("EndDate"),
        ),
    )

    contracts = arrays["Contract"]
    contract_status = np.where(
        contracts["is_draft"], 0, np.where(contracts["effective_end"] < day, 2, 1)
    )
    yield (
        "Contract",
        frames["Contract"]
        .with_columns(
            Status=_gather(("Draft", "Activated", "Expired"), contract_status),
            activated_ts=np.where(contracts["is_draft"], -1, contracts["activated_ts"]),
        )
        .filter(contracts["created_day"] <= day)
        .select(
            _sf_id("Contract", "row").alias("Id"),
            _sf_id("Account", "account").alias("AccountId"),
            (pl.col("row") + 1).cast(pl.String).str.zfill(8).alias("ContractNumber"),
            "Status",
            _date("start").alias("StartDate"),
            "ContractTerm",
            _date("end").alias("EndDate"),
            _optional_int("notice").alias("OwnerExpirationNotice"),
            _datetime("activated_ts").alias("ActivatedDate"),
        ),
    )

    yield "User", frames["User"].select(_sf_id("User", "row").alias("Id"), "Name", "IsActive")

    # Dated rates known on the day: the latest period per currency stays open-ended.
    rates = arrays["DatedConversionRate"]
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
    yield (
        "DatedConversionRate",
        pl.concat([usd, frame]).select(
            "IsoCode",
            "ConversionRate",
            _date("start").alias("StartDate"),
            _date("next_start").alias("NextStartDate"),
        ),
    )


def generate(
    accounts: int,
    days: int,
    seed: int,
    out_dir: Path,
    end_date: date = DEFAULT_END_DATE,
    *,
    history_days: int = HISTORY_DAYS,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write `days` consecutive daily snapshot folders out_dir/<YYYY-MM-DD>/<Object>.csv
    ending at end_date; return rows per object in the last snapshot.

    `accounts` sets the size (every other object grows in proportion); `seed` makes the
    data reproducible: the same arguments always give byte-identical files.
    `history_days` is how long the company has been selling before end_date (about three
    years by default; under a year gives a company in its first year). `progress`, when
    given, is called with a short message after each file is written.
    """
    if accounts < 1:
        raise ValueError(f"accounts must be at least 1, got {accounts}")
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if not days <= history_days:
        raise ValueError(f"history_days must be at least days ({days}), got {history_days}")
    calendar = _Calendar(end=_epoch_day(end_date), days=days, history_days=history_days)
    world = _build_world(np.random.default_rng(seed), accounts, calendar)
    out_dir = Path(out_dir)
    rows: dict[str, int] = {}
    for day in calendar.snapshot_days:
        snapshot_date = date(1970, 1, 1) + timedelta(days=day)
        folder = out_dir / snapshot_date.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        for object_name, frame in _snapshot(world, day):
            frame = frame.select(OBJECT_FIELDS[object_name])  # the header is SPEC §2's order
            frame.write_csv(
                folder / f"{object_name}.csv",
                date_format="%Y-%m-%d",
                datetime_format=DATETIME_FORMAT,
                float_precision=6 if object_name == "DatedConversionRate" else 2,
                null_value="",
            )
            rows[object_name] = frame.height
            if progress is not None:
                progress(f"{snapshot_date} {object_name}: {frame.height:,} rows")
    return rows
