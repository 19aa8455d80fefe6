"""The generator's calendar: snapshot days as epoch days, and Salesforce's date arithmetic
done on whole numpy arrays of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

HISTORY_DAYS = 3 * 365 + 1  # about three years of CRM history before the last snapshot
NEVER = 10**7  # an epoch day after any snapshot: "does not happen within the data"
DAY_SECONDS = 86_400

PERIOD_MONTHS = {"Monthly": 1, "Quarterly": 3, "Yearly": 12}  # Daily/Weekly step in days
PERIOD_DAYS = {"Daily": 1, "Weekly": 7}


@dataclass(frozen=True)
class Calendar:
    """The snapshot window (its last day and length) and how far back history goes."""

    end: int  # epoch day of the last snapshot
    days: int  # number of daily snapshots
    history_days: int = HISTORY_DAYS  # how far back the company's CRM history goes

    @property
    def first(self) -> int:
        """Epoch day of the first snapshot."""
        return self.end - self.days + 1

    @property
    def history_start(self) -> int:
        """Epoch day the company's CRM history begins."""
        return self.end - self.history_days

    @property
    def snapshot_days(self) -> range:
        """Every snapshot's epoch day, oldest first."""
        return range(self.first, self.end + 1)


def epoch_day(day: date) -> int:
    """Days since 1970-01-01."""
    return (day - date(1970, 1, 1)).days


def add_months(days: np.ndarray, months) -> np.ndarray:
    """Epoch days plus whole months, clamped to the month's end (Jan 31 + 1 → Feb 28/29)."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    day_of_month = (d - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(months, dtype=np.int64).astype("timedelta64[M]")
    target_first = target.astype("datetime64[D]")
    month_length = ((target + 1).astype("datetime64[D]") - target_first).astype(np.int64)
    return (target_first + np.minimum(day_of_month, month_length - 1)).astype(np.int64)


def term_end(start: np.ndarray, months) -> np.ndarray:
    """Salesforce's contract end: start + term months − 1 day."""
    return add_months(start, months) - 1


def first_of_next_month(days: np.ndarray) -> np.ndarray:
    """The first day of the month after each epoch day."""
    month = np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]")
    return (month + 1).astype("datetime64[D]").astype(np.int64)


def installment_dates(start: np.ndarray, k: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Date of installment k (0-based) from start, per SPEC §4.4 (month steps from start)."""
    months = np.zeros_like(k)
    step_days = np.zeros_like(k)
    for name, per in PERIOD_MONTHS.items():
        months = np.where(period == name, k * per, months)
    for name, per in PERIOD_DAYS.items():
        step_days = np.where(period == name, k * per, step_days)
    return add_months(start, months) + step_days


def window_day(rng: np.random.Generator, calendar: Calendar, n: int) -> np.ndarray:
    """A snapshot day after the first one, for an event that happens within the window."""
    return calendar.first + rng.integers(1, calendar.days, size=n)
