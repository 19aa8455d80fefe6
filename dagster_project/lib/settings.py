"""The build's settings (dbt_project.yml's vars): declared types, checked before any SQL.

Every value a person or a run's environment gives (`--set NAME=VALUE`, `--as-of`, the
RECURWISE_DBT_VARS of a run started from the UI or the sensor) is checked here against
its declared type and range, so dbt only ever receives a whole number, a date in ISO
form, one of a list of words, or text; the dbt models then quote text as a SQL string
literal (macros/sql_values.sql). Plain Python, no Dagster import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from .csv_scan import ENCODINGS

DBT_PROJECT_YML = Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml"
# dbt renders the text of every var as Jinja (`{{ run_query(...) }}` would run).
JINJA_MARKS = ("{{", "{%", "{#")
# How much of an offending value a message quotes.
QUOTED_CHARS = 60


class SettingError(ValueError):
    """A setting's value is not of its declared type; the message names setting and value."""


def quoted(value: object, limit: int = QUOTED_CHARS) -> str:
    """`value` as a message quotes it: repr, cut to `limit` characters."""
    text = repr(value) if isinstance(value, str) else repr(str(value))
    return text if len(text) <= limit else text[: limit - 4] + "...'"


@dataclass(frozen=True)
class Setting:
    """One setting: its kind (integer, date, choice, currency, text) and what it accepts."""

    name: str
    kind: str
    nullable: bool = False
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    max_length: int | None = None

    def describe(self) -> str:
        if self.kind == "integer":
            what = f"a whole number from {self.minimum} to {self.maximum}"
        elif self.kind == "date":
            what = "a date (YYYY-MM-DD)"
        elif self.kind == "choice":
            what = "one of " + ", ".join(self.choices)
        elif self.kind == "currency":
            what = "a three-letter currency code (USD, EUR, ...)"
        else:
            what = f"text of 1 to {self.max_length} printable characters without {{{{ {{% {{#"
        return what + (", or null" if self.nullable else "")

    def parse(self, text: str) -> object:
        """The value of `text` as given on the command line (`--set NAME=TEXT`)."""
        if self.nullable and text.strip().lower() in ("", "null", "none"):
            return None
        if self.kind == "integer":
            if not re.fullmatch(r"[+-]?[0-9]+", text.strip()):
                raise self._error(text)
            return self.check(int(text))
        return self.check(text)

    def check(self, value: object) -> object:
        """`value` (from the command line or a run's JSON) checked; its canonical form."""
        if value is None:
            if self.nullable:
                return None
            raise self._error(value)
        if self.kind == "integer":
            # bool is an int in Python; a JSON `true` is no number of days.
            if isinstance(value, bool) or not isinstance(value, int):
                raise self._error(value)
            if not self.minimum <= value <= self.maximum:
                raise self._error(value)
            return value
        if not isinstance(value, str):
            raise self._error(value)
        if self.kind == "date":
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
                raise self._error(value)
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                raise self._error(value) from None
        if self.kind == "choice":
            if value not in self.choices:
                raise self._error(value)
            return value
        if self.kind == "currency":
            if not re.fullmatch(r"[A-Za-z]{3}", value.strip()):
                raise self._error(value)
            return value.strip().upper()
        # Text: printable, one line, not blank; quotes are fine (the models quote it). dbt
        # renders a var's text as Jinja before a model sees it, so no Jinja delimiters.
        if (
            not value.strip()
            or len(value) > self.max_length
            or not value.isprintable()
            or any(mark in value for mark in JINJA_MARKS)
        ):
            raise self._error(value)
        return value

    def _error(self, value: object) -> SettingError:
        return SettingError(f"setting {self.name} must be {self.describe()}, not {quoted(value)}")


# One declaration per var of dbt_project.yml (tests/test_safety.py fails when a var has none).
DECLARED = {
    setting.name: setting
    for setting in (
        Setting("as_of_date", "date", nullable=True),
        Setting("corporate_currency", "currency"),
        Setting("new_logo_lookback_months", "integer", nullable=True, minimum=0, maximum=1200),
        Setting("potential_subscription_grain", "choice", choices=("opportunity", "line_item")),
        Setting("renewal_horizon_days", "integer", minimum=0, maximum=3660),
        Setting("renewal_match_window_days", "integer", minimum=0, maximum=3660),
        Setting("renewal_lead_time_days", "integer", minimum=0, maximum=3660),
        # Salesforce picklist values are up to 255 characters.
        Setting("renewal_stage_name", "text", max_length=255),
        Setting("mrr_forecast_months_back", "integer", minimum=0, maximum=120),
        Setting("mrr_forecast_months_ahead", "integer", minimum=0, maximum=120),
        Setting("mrr_convention", "choice", choices=("opening", "closing")),
        Setting("month_close_days", "integer", minimum=0, maximum=366),
        Setting("export_encoding", "choice", choices=tuple(ENCODINGS)),
        # A zone name; ingest checks DuckDB knows it before it reads a file.
        Setting("org_time_zone", "text", max_length=64),
        Setting("max_row_drop_pct", "integer", minimum=0, maximum=100),
        Setting("max_reject_pct", "integer", minimum=0, maximum=100),
    )
}


def dbt_defaults() -> dict[str, object]:
    """dbt_project.yml's vars and their defaults."""
    return dict(yaml.safe_load(DBT_PROJECT_YML.read_text())["vars"])


def overridable_settings() -> list[str]:
    """The settings `--set` may override, sorted: every var of dbt_project.yml but the
    as-of date (it has --as-of)."""
    return sorted(name for name in dbt_defaults() if name != "as_of_date")


def parse_settings(pairs: list[str]) -> dict[str, object]:
    """NAME=VALUE pairs (`--set`) as checked dbt vars."""
    values: dict[str, object] = {}
    known = overridable_settings()
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or name not in known:
            raise SettingError(
                f"unknown setting {quoted(pair)}; use NAME=VALUE with NAME one of "
                f"{', '.join(known)}"
            )
        values[name] = DECLARED[name].parse(text)
    return values


def check_dbt_vars(values: dict[str, object]) -> dict[str, object]:
    """A run's dbt vars (JSON from its environment) checked against their declarations."""
    if not isinstance(values, dict):
        raise SettingError(f"the build's settings must be a JSON object, not {quoted(values)}")
    checked = {}
    for name, value in values.items():
        if name not in DECLARED:
            raise SettingError(
                f"unknown setting {quoted(name)}; one of {', '.join(sorted(DECLARED))}"
            )
        checked[name] = DECLARED[name].check(value)
    return checked
