"""What the invented company sells and who sells it: products and list prices, currencies
and their dated rates, the sales team, and the stage ladder with each stage's defaults.

Fixed, independent of the number of accounts, except the team, which grows with it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl

from synthetic_crm.timeline import PERIOD_DAYS, PERIOD_MONTHS, Calendar

# The one home of each stage's default probability and forecast category (a dbt seed).
STAGE_DEFAULTS_CSV = (
    Path(__file__).resolve().parents[1] / "seeds" / "reference" / "stage_defaults.csv"
)

# Stage ladder of an open deal (by how far it is from creation to close), then the closed
# stages; the map's other stages (Needs Analysis) are never used by the generator.
STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
CLOSED_WON, CLOSED_LOST = 4, 5

CORPORATE_CURRENCY = "USD"
# Units of the currency per 1 USD around which the quarterly dated rates wander.
BASE_RATES = {"EUR": 0.92, "GBP": 0.79, "CAD": 1.36}
CURRENCIES = ("USD", "EUR", "GBP", "CAD")


@dataclass(frozen=True)
class StageDefaults:
    """Default probability and forecast category of each stage of STAGES, by position."""

    probability: np.ndarray
    forecast_category: tuple[str, ...]


@cache
def stage_defaults() -> StageDefaults:
    """The ladder's defaults as seeds/reference/stage_defaults.csv declares them."""
    with STAGE_DEFAULTS_CSV.open(newline="", encoding="utf-8") as file:
        by_stage = {row["stage_name"]: row for row in csv.DictReader(file)}
    return StageDefaults(
        probability=np.array([int(by_stage[s]["default_probability"]) for s in STAGES]),
        forecast_category=tuple(by_stage[s]["default_forecast_category"] for s in STAGES),
    )


# --------------------------------------------------------------------------------------
# Products
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    """One Product2 record and how deals use it."""

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
PRODUCTS: tuple[Product, ...] = (
    # Platform tiers sold to new logos; Divide schedules, so the price is per seat per term.
    Product("Platform Standard (12 months)", "PLT-STD-12", "Platform", "Recurring", "platform",
            600, "seats", revenue_schedule=("Divide", "Monthly", 12)),
    Product("Platform Standard (24 months)", "PLT-STD-24", "Platform", "Recurring", "platform",
            1152, "seats", revenue_schedule=("Divide", "Monthly", 24)),
    Product("Platform Professional (36 months, quarterly)", "PLT-PRO-36Q", "Platform",
            "Recurring", "platform", 2592, "seats",
            revenue_schedule=("Divide", "Quarterly", 12)),
    # Higher tiers customers upgrade to.
    Product("Platform Professional (36 months, annual)", "PLT-PRO-36Y", "Platform",
            "Recurring", "upgrade", 2592, "seats", revenue_schedule=("Divide", "Yearly", 3)),
    Product("Platform Enterprise (yearly)", "PLT-ENT-Y", "Platform", "Recurring", "upgrade",
            1200, "seats", revenue_schedule=("Repeat", "Yearly", 3)),
    Product("Platform Enterprise (12 months)", "PLT-ENT-12", "Platform", "Recurring",
            "upgrade", 1200, "seats", revenue_schedule=("Divide", "Monthly", 12)),
    # Add-ons, one per schedule variant.
    Product("Additional Seats", "ADD-SEATS", "Add-on", "Recurring", "addon", 40,
            "addon_seats", quantity_schedule=("Repeat", "Monthly", 12),
            revenue_schedule=("Divide", "Monthly", 12)),
    Product("Analytics Module", "ADD-ANLT", "Add-on", "Recurring", "addon", 150, "units",
            revenue_schedule=("Repeat", "Monthly", 12)),
    Product("Storage Pack", "ADD-STOR", "Add-on", "Recurring", "addon", 240, "units",
            quantity_schedule=("Divide", "Monthly", 12),
            revenue_schedule=("Divide", "Monthly", 12)),
    Product("Sandbox Environment", "ADD-SBX", "Add-on", "Recurring", "addon", 1800, "units",
            revenue_schedule=("Divide", "Monthly", 24), exclude_from_upgrade=True),
    Product("Legacy Integration Bundle", "ADD-LEG", "Add-on", None, "addon", 90, "units",
            revenue_schedule=("Repeat", "Monthly", 12)),
    # Support plans.
    Product("Premium Support", "SUP-PREM", "Support", "Recurring", "support", 4800, "single",
            revenue_schedule=("Divide", "Monthly", 12), exclude_from_upgrade=True),
    Product("Standard Support", "SUP-STD", "Support", "Recurring", "support", 1200, "single"),
    Product("Customer Success Plan", "SUP-CSP", "Support", "Recurring", "support", 1500,
            "single", revenue_schedule=("Repeat", "Quarterly", 4)),
    Product("Weekly Health Check", "SUP-WHC", "Support", "Recurring", "support", 40, "single",
            quantity_schedule=("Repeat", "Weekly", 52),
            revenue_schedule=("Divide", "Quarterly", 4)),
    # Services: one-time, some with a delivery schedule.
    Product("Implementation", "SVC-IMPL", "Services", "One-Time", "services", 5000, "single"),
    Product("Onboarding Sprint", "SVC-ONB", "Services", "One-Time", "services", 3000,
            "single", revenue_schedule=("Divide", "Daily", 30)),
    Product("Training Workshop", "SVC-TRN", "Services", "One-Time", "services", 1200, "units",
            quantity_schedule=("Divide", "Weekly", 4)),
    Product("Consulting Hours", "SVC-CONS", "Services", None, "services", 200, "hours"),
    # Usage: billed on consumption, never MRR.
    Product("API Calls (per 1,000)", "USG-API", "Add-on", "Usage", "usage", 2, "usage",
            quantity_schedule=("Divide", "Monthly", 12),
            revenue_schedule=("Divide", "Monthly", 12)),
    Product("Overage Usage", "USG-OVR", "Add-on", "Usage", "usage", 1, "usage"),
    # Retired product whose schedule has 151 installments: lines on it are schedule errors.
    Product("Data Archive (legacy)", "ADD-ARCH", "Add-on", "Recurring", "broken", 100,
            "units", revenue_schedule=("Divide", "Monthly", 151), is_active=False),
)
# fmt: on


def _schedule_part(product: Product, kind: str, position: int, default=None):
    """One part (type, period, installments) of a product's quantity or revenue schedule."""
    value = getattr(product, f"{kind}_schedule")
    return value[position] if value else default


def product_arrays() -> dict[str, np.ndarray]:
    """Catalog attributes as arrays indexed by product number, for vectorised lookups."""

    def schedule_field(kind: str, position: int, default):
        return np.array(
            [_schedule_part(p, kind, position, default) for p in PRODUCTS], dtype=object
        )

    def revenue_step(per_period: dict[str, int]) -> np.ndarray:
        return np.array([per_period.get(_schedule_part(p, "revenue", 1), 0) for p in PRODUCTS])

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
        "revenue_step_months": revenue_step(PERIOD_MONTHS),
        "revenue_step_days": revenue_step(PERIOD_DAYS),
        "revenue_installments": schedule_field("revenue", 2, 0).astype(np.int64),
        "quantity_period": schedule_field("quantity", 1, "Monthly"),
        "quantity_installments": schedule_field("quantity", 2, 0).astype(np.int64),
        "discountable": np.array([p.role != "usage" for p in PRODUCTS]),
    }


def product_frame() -> pl.DataFrame:
    """The Product2 records, one row per catalog entry, in Salesforce's field names."""
    return pl.DataFrame(
        {
            "row": list(range(len(PRODUCTS))),
            "Name": [p.name for p in PRODUCTS],
            "ProductCode": [p.code for p in PRODUCTS],
            "Family": [p.family for p in PRODUCTS],
            "IsActive": [p.is_active for p in PRODUCTS],
            "Charge_Type__c": [p.charge_type for p in PRODUCTS],
            "CanUseQuantitySchedule": [p.quantity_schedule is not None for p in PRODUCTS],
            "QuantityScheduleType": [_schedule_part(p, "quantity", 0) for p in PRODUCTS],
            "QuantityInstallmentPeriod": [_schedule_part(p, "quantity", 1) for p in PRODUCTS],
            "NumberOfQuantityInstallments": [_schedule_part(p, "quantity", 2) for p in PRODUCTS],
            "CanUseRevenueSchedule": [p.revenue_schedule is not None for p in PRODUCTS],
            "RevenueScheduleType": [_schedule_part(p, "revenue", 0) for p in PRODUCTS],
            "RevenueInstallmentPeriod": [_schedule_part(p, "revenue", 1) for p in PRODUCTS],
            "NumberOfRevenueInstallments": [_schedule_part(p, "revenue", 2) for p in PRODUCTS],
            "Exclude_From_Upgrade__c": [p.exclude_from_upgrade for p in PRODUCTS],
        },
        schema_overrides={
            "NumberOfQuantityInstallments": pl.Int64,
            "NumberOfRevenueInstallments": pl.Int64,
        },
    )


# --------------------------------------------------------------------------------------
# Currencies
# --------------------------------------------------------------------------------------


def conversion_rates(rng: np.random.Generator, calendar: Calendar) -> dict[str, np.ndarray]:
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


# --------------------------------------------------------------------------------------
# The sales team
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
# fmt: on


def users(rng: np.random.Generator, accounts: int) -> dict[str, np.ndarray]:
    """The sales team: one user per 20 accounts (at least 5), a few of them gone."""
    count = max(5, accounts // 20)
    is_active = rng.random(count) >= 0.12
    is_active[:3] = True  # enough active reps to own deals and splits
    is_active[-1] = False  # at least one inactive owner of old records
    return {
        "first": rng.integers(len(FIRST_NAMES), size=count),
        "last": rng.integers(len(LAST_NAMES), size=count),
        "is_active": is_active,
    }


def choose_owner(
    rng: np.random.Generator, team: dict, n: int, inactive_share: float = 0.08
) -> np.ndarray:
    """Mostly an active user; some records are still owned by people who left."""
    active = np.flatnonzero(team["is_active"])
    owner = active[rng.integers(active.size, size=n)]
    anyone = rng.integers(team["is_active"].size, size=n)
    return np.where(rng.random(n) < inactive_share, anyone, owner)
