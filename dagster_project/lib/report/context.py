"""What every chart and table of the finance report needs besides its own mart: the as-of
date, the as-of month and the currency, with the report's ways of writing money and dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


class ReportError(ValueError):
    """The report could not be written; the message says why, in words a person can act on."""


@dataclass(frozen=True)
class Context:
    """The warehouse's own as-of date and currency (marts.build_info) and its as-of month."""

    as_of: date
    as_of_source: str  # where as_of comes from, in words
    latest_month: date | None  # the as-of month of the MRR marts; None while they are empty
    currency: str

    @property
    def symbol(self) -> str:
        """The currency's sign ($, €), or its ISO code and a space."""
        return CURRENCY_SYMBOLS.get(self.currency, self.currency + " ")

    def money(self, value: float | None) -> str:
        """−$4,439: whole units of the corporate currency."""
        if value is None:
            return "n/a"
        sign = "−" if value < 0 else ""
        return f"{sign}{self.symbol}{abs(value):,.0f}"

    def compact_money(self, value: float) -> str:
        """$1.2M, $600k: for axis ticks."""
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= size:
                return f"{self.symbol}{value / size:,.2f}".rstrip("0").rstrip(".") + suffix
        return f"{self.symbol}{value:,.0f}"

    def hover_money(self, axis: str = "y") -> str:
        """A plotly hover template for a money value on `axis`."""
        # d3's "$" format puts the minus first (−$4,439); other symbols go as a prefix.
        if self.symbol == "$":
            return f"%{{{axis}:$,.0f}}"
        return f"{self.symbol}%{{{axis}:,.0f}}"

    @property
    def money_axis(self) -> dict:
        """A plotly axis's tick format for money."""
        if self.symbol == "$":
            return {"tickformat": "$,.0f"}
        return {"tickprefix": self.symbol, "tickformat": ",.0f"}


def day(value: date) -> str:
    """16 Nov 2026."""
    return f"{value.day} {value:%b %Y}"


def add_months(month: date, months: int) -> date:
    """The first day of the month `months` after (or before) `month`."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def last_months(ctx: Context, count: int = 12) -> tuple[date, date]:
    """First and last month of the `count` months ending with the as-of month."""
    end = ctx.latest_month or ctx.as_of.replace(day=1)
    return add_months(end, 1 - count), end


def quarter_start(value: date) -> date:
    """The first day of the quarter `value` is in."""
    return date(value.year, 3 * ((value.month - 1) // 3) + 1, 1)


def label(code: str) -> str:
    """in_queue -> In queue: a mart's code value as a legend label."""
    return code.replace("_", " ").strip().capitalize()
