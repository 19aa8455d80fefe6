"""Quote to cash: the quotes on each deal, then for won deals the contract that starts a
term, the order (activated, some late, some left in draft, some cancelled) and its items."""

from __future__ import annotations

import numpy as np

from synthetic_crm.lifecycle import ANCHOR_KINDS, NEW_BUSINESS
from synthetic_crm.sampling import business_seconds, explode, pick, sample_at_least
from synthetic_crm.timeline import DAY_SECONDS, NEVER, Calendar, term_end, window_day


def quotes(rng: np.random.Generator, opp: dict) -> dict[str, np.ndarray]:
    """A quote on most deals, sometimes an earlier superseded one too."""
    n_opp = opp["kind"].size
    quotes_per_opp = np.where((rng.random(n_opp) < 0.8) | (opp["deleted_day"] < NEVER), 1, 0)
    quotes_per_opp += (quotes_per_opp > 0) & (rng.random(n_opp) < 0.15)
    parent, position, _ = explode(quotes_per_opp)
    latest = position == quotes_per_opp[parent] - 1
    n = parent.size
    # Quoted some way into the sales cycle, before the earliest close date the deal had.
    created_day = opp["created_day"][parent]
    earliest_close = np.minimum(opp["close"], opp["close_before"])[parent]
    cycle = np.maximum(earliest_close - created_day, 0)
    share = np.where(latest, rng.uniform(0.3, 0.8, n), rng.uniform(0.05, 0.3, n))
    quote_day = created_day + (cycle * share).astype(np.int64)
    created_ts = np.maximum(
        quote_day * DAY_SECONDS + business_seconds(rng, n), opp["created_ts"][parent] + 60
    )
    is_syncing = latest & (rng.random(n) < np.where(opp["won"][parent], 0.9, 0.7))
    return {
        "opportunity": parent,
        "latest": latest,
        "created_ts": created_ts,
        "created_day": created_ts // DAY_SECONDS,
        "is_syncing": is_syncing,
        "deleted_day": np.full(n, NEVER),
        "markup": rng.choice([1.0, 1.05, 1.1], n),
    }


def delete_superseded_quotes(
    rng: np.random.Generator, calendar: Calendar, quote_rows: dict, opp: dict
) -> None:
    """A few superseded quotes of open deals are deleted during the window."""
    if calendar.days < 2:
        return
    superseded = np.flatnonzero(
        ~quote_rows["latest"]
        & opp["open_at_end"][quote_rows["opportunity"]]
        & (quote_rows["created_day"] < calendar.first)
    )
    gone = sample_at_least(rng, superseded, 0.01 * (calendar.days - 1))
    quote_rows["deleted_day"][gone] = window_day(rng, calendar, gone.size)


def contracts(rng: np.random.Generator, opp: dict, calendar: Calendar) -> dict[str, np.ndarray]:
    """One contract per won anchor deal (new business, win-back, renewal), most of them,
    created within a couple of days of closing."""
    won_closed = _won_and_closed(opp, calendar)
    contract_opps = np.flatnonzero(
        won_closed & np.isin(opp["kind"], ANCHOR_KINDS) & (rng.random(won_closed.size) < 0.9)
    )
    size = contract_opps.size
    contract_created = opp["close"][contract_opps] + rng.integers(0, 3, size)
    exists = contract_created <= calendar.end
    contract_opps, contract_created = contract_opps[exists], contract_created[exists]
    size = contract_opps.size
    contract_start = _deal_start(opp)[contract_opps]
    contract_term = opp["term"][contract_opps]
    computed_end = term_end(contract_start, contract_term)
    has_end = rng.random(size) < 0.75
    return {
        "opportunity": contract_opps,
        "account": opp["account"][contract_opps],
        "created_day": contract_created,
        "activated_ts": contract_created * DAY_SECONDS + business_seconds(rng, size),
        "is_draft": rng.random(size) < 0.05,
        "start": contract_start,
        "term": contract_term,
        "end": np.where(has_end, computed_end, -1),
        "effective_end": computed_end,
        "notice": np.where(rng.random(size) < 0.75, rng.choice([30, 60, 90], size), -1),
    }


def orders(
    rng: np.random.Generator, opp: dict, contract_rows: dict, accounts: int, calendar: Calendar
) -> dict[str, np.ndarray]:
    """Orders for most won deals, under the contract of the deal's term once it exists:
    activated (some late, some during the window), left in draft, or cancelled."""
    won_closed = _won_and_closed(opp, calendar)
    contract_of_opp = np.full(opp["kind"].size, -1)
    contract_of_opp[contract_rows["opportunity"]] = np.arange(contract_rows["opportunity"].size)
    order_opps = np.flatnonzero(won_closed & (rng.random(won_closed.size) < 0.88))
    size = order_opps.size
    contract = contract_of_opp[opp["anchor"][order_opps]]
    # Index -1 ("no contract") reads the appended 0: such orders wait for nothing.
    contract_day = np.append(contract_rows["created_day"], 0)[contract]
    created_day = np.maximum(opp["close"][order_opps] + rng.integers(0, 6, size), contract_day)
    exists = created_day <= calendar.end
    order_opps, contract, created_day = order_opps[exists], contract[exists], created_day[exists]
    size = order_opps.size
    contract = np.where(contract_day[exists] <= created_day, contract, -1)
    account = opp["account"][order_opps]
    outcome = _order_outcomes(rng, account, opp["kind"][order_opps], accounts)
    late = rng.random(size) < 0.25
    activation_lag = np.where(late, rng.integers(14, 121, size), rng.integers(0, 8, size))
    activated_day = np.where(outcome == 0, created_day + activation_lag, NEVER)
    _activate_in_window(rng, calendar, outcome, created_day, activated_day)
    cancelled_day = np.where(outcome == 2, created_day + rng.integers(3, 31, size), NEVER)
    effective = _deal_start(opp)[order_opps]
    term = opp["term"][order_opps]
    return {
        "opportunity": order_opps,
        "account": account,
        "contract": contract,
        "kind": opp["kind"][order_opps],
        "created_ts": created_day * DAY_SECONDS + business_seconds(rng, size),
        "created_day": created_day,
        "activated_day": activated_day,
        "activated_ts": activated_day * DAY_SECONDS + business_seconds(rng, size),
        "cancelled_day": cancelled_day,
        "effective": effective,
        "end": np.where(
            rng.random(size) < 0.8, term_end(effective, np.where(term > 0, term, 12)), -1
        ),
    }


def _order_outcomes(
    rng: np.random.Generator, account: np.ndarray, kind: np.ndarray, accounts: int
) -> np.ndarray:
    """0 activated, 1 left in draft, 2 cancelled; some customers' first and only order is
    cancelled, so they are still a new logo later."""
    outcome = pick(rng, account.size, [0.86, 0.07, 0.07])
    orders_per_account = np.bincount(account, minlength=accounts)
    lonely = np.flatnonzero((orders_per_account[account] == 1) & (kind == NEW_BUSINESS))
    outcome[sample_at_least(rng, lonely, 0.05)] = 2
    return outcome


def _activate_in_window(
    rng: np.random.Generator,
    calendar: Calendar,
    outcome: np.ndarray,
    created_day: np.ndarray,
    activated_day: np.ndarray,
) -> None:
    """Orders waiting in the queue get activated during the window too."""
    if calendar.days < 2:
        return
    waiting = np.flatnonzero(
        (outcome == 0) & (created_day < calendar.first) & (activated_day >= calendar.first)
    )
    if waiting.size == 0:
        waiting = np.flatnonzero((outcome == 0) & (created_day < calendar.first - 14))
    now = sample_at_least(rng, waiting, 0.0)
    activated_day[now] = window_day(rng, calendar, now.size)


def order_items(
    rng: np.random.Generator, opp: dict, lines: dict, order_rows: dict
) -> dict[str, np.ndarray]:
    """Order items mirror the deal's lines; the CSM adjusts some (quantity or price)."""
    size = order_rows["opportunity"].size
    order_of_opp = np.full(opp["kind"].size, -1)
    order_of_opp[order_rows["opportunity"]] = np.arange(size)
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
    return {
        "order": item_order,
        "line": line_ids,
        "product": lines["product"][line_ids],
        "quantity": quantity,
        "unit_price": unit_price,
        "service_date": lines["start"][line_ids],
        "end": np.where(rng.random(n_items) < 0.8, lines["item_end"][line_ids], -1),
    }


def _won_and_closed(opp: dict, calendar: Calendar) -> np.ndarray:
    """Deals won and closed by the last snapshot (a stale deal is still open)."""
    return opp["won"] & ~opp["stale"] & (opp["close"] <= calendar.end)


def _deal_start(opp: dict) -> np.ndarray:
    """Start_Date__c where set, else the close date."""
    return np.where(opp["start"] >= 0, opp["start"], opp["close"])
