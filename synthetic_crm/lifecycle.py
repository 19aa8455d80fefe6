"""The customer lifecycle: every opportunity of every account's life (first deals,
reorders and upgrades within a contract term, renewals won and lost, churn and
win-backs), the fields each deal carries, its owner splits, and the pipeline's day to day
moves within the snapshot window (close dates that slip or are pulled in, deals lost
early and reopened, deletions)."""

from __future__ import annotations

import numpy as np

from synthetic_crm.accounts import CUSTOMER, NO_DEALS
from synthetic_crm.catalog import choose_owner
from synthetic_crm.sampling import business_seconds, explode, pick, sample_at_least
from synthetic_crm.timeline import (
    DAY_SECONDS,
    NEVER,
    Calendar,
    first_of_next_month,
    term_end,
    window_day,
)

# Deal kinds; "anchor" deals (new business, win-back, renewal) start a contract term,
# reorders and upgrades happen inside one.
NEW_BUSINESS, WIN_BACK, RENEWAL, REORDER, UPGRADE = range(5)
ANCHOR_KINDS = (NEW_BUSINESS, WIN_BACK, RENEWAL)
OPPORTUNITY_TYPE = (
    "New Business", "New Business", "Renewal", "Existing Business", "Existing Business",
)  # fmt: skip
ORDER_TYPE = ("New", "New", "Renewal", "Add-On", "Upgrade")
DEAL_LABEL = ("New Business", "Win-back", "Renewal", "Add-on", "Upgrade")
USE_CASES = (None, "NEW", "REORDER", "UPGRADE")
UC_EMPTY, UC_NEW, UC_REORDER, UC_UPGRADE = range(4)
MAX_CONTRACT_TERMS = 12  # three years of history need far fewer


class _DealLedger:
    """Deals in the order they are invented; each gets the next number as its row."""

    def __init__(self) -> None:
        self.batches: list[dict[str, np.ndarray]] = []
        self.emitted = 0

    def emit(self, exists: np.ndarray, **columns) -> np.ndarray:
        """Record the deals where `exists`; return each candidate's row (-1 where none)."""
        batch = {name: np.asarray(values)[exists] for name, values in columns.items()}
        size = batch["account"].size
        batch.setdefault("prev_anchor", np.full(size, -1))
        ids = self.emitted + np.arange(size)
        if "anchor" not in batch:
            batch["anchor"] = ids
        self.batches.append(batch)
        self.emitted += size
        full = np.full(exists.size, -1)
        full[exists] = ids
        return full

    def in_creation_order(self) -> dict[str, np.ndarray]:
        """All deals sorted by creation time, as Salesforce numbers Ids; references are
        renumbered to match."""
        deals = {name: np.concatenate([b[name] for b in self.batches]) for name in self.batches[0]}
        order = np.lexsort((np.arange(self.emitted), deals["created_ts"]))
        new_number = np.empty(self.emitted, dtype=np.int64)
        new_number[order] = np.arange(self.emitted)
        deals = {name: values[order] for name, values in deals.items()}
        for reference in ("anchor", "prev_anchor"):
            deals[reference] = np.where(deals[reference] >= 0, new_number[deals[reference]], -1)
        return deals


class _ContractTerms:
    """Per account: whether it is a customer now, and its current term and anchor deal."""

    def __init__(self, n: int) -> None:
        self.active = np.zeros(n, dtype=bool)
        self.start = np.zeros(n, dtype=np.int64)
        self.term = np.zeros(n, dtype=np.int64)
        self.anchor = np.full(n, -1)


def _sales_cycle(
    rng: np.random.Generator, size: int, median_days: float, low: int, high: int
) -> np.ndarray:
    """Days from a deal's creation to its close, log-normal around the median."""
    return np.clip(rng.lognormal(np.log(median_days), 0.6, size), low, high).astype(np.int64)


def _term_choice(rng: np.random.Generator, size: int) -> np.ndarray:
    """Contract term in months: mostly 12, some 24 or 36."""
    return np.array([12, 24, 36])[pick(rng, size, [0.6, 0.25, 0.15])]


def deals(rng: np.random.Generator, acc: dict, calendar: Calendar) -> dict[str, np.ndarray]:
    """Every opportunity of every account's life, in creation order.

    Per account: a first deal (won for customers), then contract terms that each may see
    reorders and upgrades and end in a renewal won or lost, a churn, maybe a win-back.
    The loop runs over contract terms (a handful), each step vectorised over accounts.
    """
    ledger = _DealLedger()
    terms = _ContractTerms(acc["lifecycle"].size)
    _first_deals(rng, acc, calendar.end, ledger, terms)
    for _ in range(MAX_CONTRACT_TERMS):
        ids = np.flatnonzero(terms.active)
        if ids.size == 0:
            break
        start = terms.start[ids]
        end = term_end(start, terms.term[ids])
        _deals_within_term(rng, ids, start, end, calendar.end, ledger, terms)
        _close_term(rng, ids, end, calendar.end, ledger, terms)
    return ledger.in_creation_order()


def _first_deals(
    rng: np.random.Generator, acc: dict, end: int, ledger: _DealLedger, terms: _ContractTerms
) -> None:
    """New business for customers and prospects; a won one starts the first term."""
    first = np.flatnonzero(acc["lifecycle"] != NO_DEALS)
    size = first.size
    created_ts = (
        acc["created_ts"][first]
        + (rng.exponential(10 * DAY_SECONDS, size) + 600).astype(np.int64) // 60 * 60
    )
    created_day = created_ts // DAY_SECONDS
    close = created_day + _sales_cycle(rng, size, 45, 7, 240)
    is_customer = acc["lifecycle"][first] == CUSTOMER
    start = np.where(rng.random(size) < 0.25, first_of_next_month(close), -1)
    use_case = np.where(rng.random(size) < 0.45, UC_NEW, UC_EMPTY)
    # A few won first deals say UPGRADE although there is nothing to upgrade: the
    # subscription builder must report them, not crash.
    won_now = np.flatnonzero(is_customer & (close <= end) & (created_day <= end))
    use_case[sample_at_least(rng, won_now, 0.004)] = UC_UPGRADE
    term = _term_choice(rng, size)
    first_ids = ledger.emit(
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
    became_customer = is_customer & (close <= end) & (created_day <= end)
    customers = first[became_customer]
    terms.active[customers] = True
    terms.start[customers] = np.where(start >= 0, start, close)[became_customer]
    terms.term[customers] = term[became_customer]
    terms.anchor[customers] = first_ids[became_customer]


def _deals_within_term(
    rng: np.random.Generator,
    ids: np.ndarray,
    start: np.ndarray,
    end_of_term: np.ndarray,
    end: int,
    ledger: _DealLedger,
    terms: _ContractTerms,
) -> None:
    """Reorders and upgrades within the term, early and late."""
    size = ids.size
    for low, high, share in ((0.08, 0.45, 0.40), (0.50, 0.90, 0.25)):
        happens = rng.random(size) < share
        close = start + ((end_of_term - start) * rng.uniform(low, high, size)).astype(np.int64)
        created_day = np.maximum(close - _sales_cycle(rng, size, 25, 5, 90), start)
        is_upgrade = rng.random(size) < 0.35
        use_case = np.where(
            is_upgrade,
            np.where(rng.random(size) < 0.4, UC_UPGRADE, UC_EMPTY),
            np.where(rng.random(size) < 0.5, UC_REORDER, UC_EMPTY),
        )
        upgrade_start = np.where(
            rng.random(size) < 0.5,
            first_of_next_month(close),
            close + rng.integers(0, 21, size),
        )
        ledger.emit(
            exists=happens & (created_day <= end),
            account=ids,
            kind=np.where(is_upgrade, UPGRADE, REORDER),
            created_ts=created_day * DAY_SECONDS + business_seconds(rng, size),
            close=close,
            won=rng.random(size) < 0.85,
            term=np.where(is_upgrade, _term_choice(rng, size), 12),
            start=np.where(is_upgrade, upgrade_start, -1),
            use_case=use_case,
            anchor=terms.anchor[ids],
        )


def _close_term(
    rng: np.random.Generator,
    ids: np.ndarray,
    end_of_term: np.ndarray,
    end: int,
    ledger: _DealLedger,
    terms: _ContractTerms,
) -> None:
    """The term ends in a renewal won, or a churn that a win-back may follow; either
    starts the account's next term."""
    size = ids.size
    # Renewal opportunity, opened some weeks before the term ends.
    has_renewal_deal = rng.random(size) >= 0.03
    renewal_created = end_of_term - rng.integers(45, 121, size)
    renewal_close = np.maximum(end_of_term - rng.integers(0, 31, size), renewal_created + 7)
    renewal_won = rng.random(size) < 0.9
    renewal_term = np.where(rng.random(size) < 0.75, terms.term[ids], _term_choice(rng, size))
    renewal_exists = has_renewal_deal & (renewal_created <= end)
    renewal_ids = ledger.emit(
        exists=renewal_exists,
        account=ids,
        kind=np.full(size, RENEWAL),
        created_ts=renewal_created * DAY_SECONDS + business_seconds(rng, size),
        close=renewal_close,
        won=renewal_won,
        term=renewal_term,
        start=end_of_term + 1,
        use_case=np.where(rng.random(size) < 0.3, UC_NEW, UC_EMPTY),
        prev_anchor=terms.anchor[ids],
    )
    renewed = renewal_exists & renewal_won & (renewal_close <= end)
    churned = (end_of_term < end) & ~renewed & ~(renewal_exists & (renewal_close > end))

    # Some churned customers come back later with a fresh new-business deal.
    win_back = churned & (rng.random(size) < 0.25)
    win_back_created = end_of_term + rng.integers(60, 400, size)
    win_back_close = win_back_created + _sales_cycle(rng, size, 45, 7, 240)
    win_back_won = rng.random(size) < 0.55
    win_back_start = np.where(rng.random(size) < 0.2, first_of_next_month(win_back_close), -1)
    win_back_term = _term_choice(rng, size)
    win_back_exists = win_back & (win_back_created <= end)
    win_back_ids = ledger.emit(
        exists=win_back_exists,
        account=ids,
        kind=np.full(size, WIN_BACK),
        created_ts=win_back_created * DAY_SECONDS + business_seconds(rng, size),
        close=win_back_close,
        won=win_back_won,
        term=win_back_term,
        start=win_back_start,
        use_case=np.where(rng.random(size) < 0.4, UC_NEW, UC_EMPTY),
    )
    came_back = win_back_exists & win_back_won & (win_back_close <= end)

    terms.active[ids] = renewed | came_back
    terms.start[ids] = np.where(
        renewed, end_of_term + 1, np.where(win_back_start >= 0, win_back_start, win_back_close)
    )
    terms.term[ids] = np.where(renewed, renewal_term, win_back_term)
    terms.anchor[ids] = np.where(renewed, renewal_ids, win_back_ids)


def opportunities(
    rng: np.random.Generator, deal_rows: dict, acc: dict, team: dict, calendar: Calendar
) -> dict[str, np.ndarray]:
    """Fields of each opportunity beyond the lifecycle: owner, currency, flags, and the
    window changes (close dates that slip or are pulled in, deletions)."""
    n = deal_rows["account"].size
    account = deal_rows["account"]
    kind = deal_rows["kind"]
    created_day = deal_rows["created_ts"] // DAY_SECONDS
    close = deal_rows["close"]
    # Renewals go to the CSM when there is one, other deals mostly to the account owner.
    owner = np.where(rng.random(n) < 0.8, acc["owner"][account], choose_owner(rng, team, n))
    csm = acc["csm"][account]
    owner = np.where((kind == RENEWAL) & (csm >= 0) & (rng.random(n) < 0.5), csm, owner)
    currency = np.where(rng.random(n) < 0.05, 0, acc["currency"][account])

    # Past-due deals nobody closed: open with a close date long gone.
    stale = (~deal_rows["won"]) & (close < calendar.first - 30) & (rng.random(n) < 0.06)
    open_at_end = (close > calendar.end) | stale
    first_seen = created_day < calendar.first
    close_before, slip_day, deleted_day = _slipped_and_deleted(
        rng, calendar, close, open_at_end & first_seen, stale
    )
    pull_day, close_later = _pulled_in(
        rng,
        calendar,
        close,
        open_at_end & ~stale & first_seen & (slip_day == NEVER) & (deleted_day == NEVER),
    )

    return {
        "account": account,
        "kind": kind,
        "created_ts": deal_rows["created_ts"],
        "created_day": created_day,
        "close": close,
        "close_before": close_before,
        "slip_day": slip_day,
        "pull_day": pull_day,
        "close_later": close_later,
        "deleted_day": deleted_day,
        "won": deal_rows["won"],
        "stale": stale,
        "open_at_end": open_at_end,
        "term": deal_rows["term"],
        "start": deal_rows["start"],
        "use_case": deal_rows["use_case"],
        "anchor": deal_rows["anchor"],
        "prev_anchor": deal_rows["prev_anchor"],
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


def _slipped_and_deleted(
    rng: np.random.Generator,
    calendar: Calendar,
    close: np.ndarray,
    open_and_seen: np.ndarray,
    stale: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Open deals whose close date a rep pushes out during the window (before slip_day it
    was close_before, still after slip_day, so the deal is open in every snapshot before
    the push), and a few open deals deleted (with their lines, schedules, splits and
    quotes): (close_before, slip_day, deleted_day)."""
    n = close.size
    close_before = close.copy()
    slip_day = np.full(n, NEVER)
    deleted_day = np.full(n, NEVER)
    if calendar.days > 1:
        candidates = np.flatnonzero(open_and_seen & ~stale & (close > calendar.end + 7))
        slipped = sample_at_least(rng, candidates, 0.015 * (calendar.days - 1))
        slip_day[slipped] = window_day(rng, calendar, slipped.size)
        push = np.minimum(rng.integers(7, 46, slipped.size), close[slipped] - slip_day[slipped])
        close_before[slipped] = close[slipped] - push
        candidates = np.flatnonzero(open_and_seen & (slip_day == NEVER))
        gone = sample_at_least(rng, candidates, 0.002 * (calendar.days - 1), minimum=3)
        deleted_day[gone] = window_day(rng, calendar, gone.size)
    return close_before, slip_day, deleted_day


def _moves(rng: np.random.Generator) -> np.random.Generator:
    """The random stream of the pipeline's day-to-day moves (pull-ins, losses, reopenings):
    a fixed child of the world's seed, so every other record stays as the seed made it."""
    seed = rng.bit_generator.seed_seq
    return np.random.default_rng(np.random.SeedSequence(seed.entropy, spawn_key=(412,)))


def _pulled_in(
    rng: np.random.Generator, calendar: Calendar, close: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Open deals whose close date is pulled in during the window (SPEC 4.12's moved_in
    and moved_out): before pull_day the deal closed later, at close_later."""
    pull_day = np.full(close.size, NEVER)
    close_later = close.copy()
    if calendar.days < 2:
        return pull_day, close_later
    moves = _moves(rng)
    candidates = np.flatnonzero(free & (close > calendar.end + 30))
    pulled = sample_at_least(moves, candidates, 0.01 * (calendar.days - 1), minimum=2)
    pull_day[pulled] = window_day(moves, calendar, pulled.size)
    close_later[pulled] = close[pulled] + moves.integers(20, 60, pulled.size)
    return pull_day, close_later


def lose_and_reopen(rng: np.random.Generator, calendar: Calendar, opp: dict, lines: dict) -> None:
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
    lost = sample_at_least(moves, np.flatnonzero(free), 0.004 * (calendar.days - 1), minimum=3)
    opp["lost_day"][lost] = window_day(moves, calendar, lost.size)
    can_reopen = lost[opp["lost_day"][lost] < calendar.end]
    if can_reopen.size:
        reopened = sample_at_least(moves, can_reopen, 0.3)
        opp["reopen_day"][reopened] = opp["lost_day"][reopened] + moves.integers(
            1, calendar.end - opp["lost_day"][reopened] + 1
        )


def splits(rng: np.random.Generator, opp: dict, team: dict) -> dict[str, np.ndarray]:
    """Opportunity splits: MRR splits on ~10% of deals (a few not adding up to 100) and an
    overlay Amount split on some of them."""
    n_opp = opp["kind"].size
    n_users = team["is_active"].size
    split_opps = sample_at_least(rng, np.arange(n_opp), 0.10, minimum=min(5, n_opp))
    # Deleted deals have splits too, so the deletion reaches every child object.
    split_opps = np.union1d(split_opps, np.flatnonzero(opp["deleted_day"] < NEVER))
    parent, position, percentage = _mrr_split_rows(rng, split_opps.size)
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
    overlay_owner = (
        opp["owner"][split_opps[overlay_opps]]
        + 1
        + rng.integers(n_users - 1, size=overlay_opps.size)
    ) % n_users
    owners = np.concatenate([owner, overlay_owner])
    percentages = np.concatenate([percentage, rng.choice([10, 15, 20, 25, 50], overlay_opps.size)])
    types = np.concatenate([split_type, np.ones(overlay_opps.size, dtype=np.int64)])
    order = np.lexsort((types, opps))
    return {
        "opportunity": opps[order],
        "owner": owners[order],
        "percentage": percentages[order].astype(np.float64),
        "type": types[order],
    }


def _mrr_split_rows(
    rng: np.random.Generator, split_deals: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each split deal's MRR split rows, about 3% of deals in a pattern that does not sum
    to 100: (deal index, position in the deal, percentage)."""
    patterns = [(50, 50), (60, 40), (70, 30), (80, 20), (50, 25, 25), (40, 30, 30)]
    invalid_patterns = [(60, 30), (50, 60), (40, 40, 30)]
    pattern_index = rng.integers(len(patterns), size=split_deals)
    invalid = np.zeros(split_deals, dtype=bool)
    invalid[sample_at_least(rng, np.arange(split_deals), 0.03)] = True
    invalid_index = rng.integers(len(invalid_patterns), size=split_deals)
    table = np.zeros((len(patterns) + len(invalid_patterns), 3))
    for row, pattern in enumerate(patterns + invalid_patterns):
        table[row, : len(pattern)] = pattern
    chosen = np.where(invalid, len(patterns) + invalid_index, pattern_index)
    rows_per_deal = np.count_nonzero(table[chosen] > 0, axis=1)
    parent, position, _ = explode(rows_per_deal)
    return parent, position, table[chosen[parent], position]
