"""The products on each deal: 1-4 OpportunityLineItem rows per opportunity, priced in the
deal's currency, with the order numbers that tie subscription items across deals, and the
explicit OpportunityLineItemSchedule rows a few lines carry."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic_crm.catalog import CURRENCIES, product_arrays
from synthetic_crm.lifecycle import NEW_BUSINESS, RENEWAL, REORDER, UPGRADE, WIN_BACK
from synthetic_crm.sampling import explode, pick, sample_at_least
from synthetic_crm.timeline import NEVER, Calendar, installment_dates, term_end, window_day

# How many lines each kind of deal has: weights of 1, 2, 3 and 4 lines.
LINE_COUNT_WEIGHTS = {
    NEW_BUSINESS: [0.35, 0.35, 0.2, 0.1],
    WIN_BACK: [0.35, 0.35, 0.2, 0.1],
    RENEWAL: [0.5, 0.35, 0.15, 0.0],
    REORDER: [0.7, 0.3, 0.0, 0.0],
    UPGRADE: [0.5, 0.35, 0.15, 0.0],
}
MAX_INSTALLMENTS = 150  # SPEC 4.4: a schedule past it is an error, not a schedule


@dataclass(frozen=True)
class _LinePlaces:
    """Where each line sits: its deal, its place on the deal, and the deal's kind."""

    opportunity: np.ndarray
    position: np.ndarray
    first_line: np.ndarray  # per deal, its first line's row
    lines_per_opp: np.ndarray  # per deal
    kind: np.ndarray  # the deal's kind, per line

    @property
    def lead(self) -> np.ndarray:
        """The deal's first line, the one that carries its main product."""
        return self.position == 0


def line_items(
    rng: np.random.Generator, opp: dict, calendar: Calendar, rates: dict[str, float]
) -> dict[str, np.ndarray]:
    """1-4 product lines per opportunity, priced in the deal's currency."""
    catalog = product_arrays()
    lines_per_opp = _lines_per_opportunity(rng, opp["kind"])
    line_opp, position, first_line = explode(lines_per_opp)
    places = _LinePlaces(line_opp, position, first_line, lines_per_opp, opp["kind"][line_opp])
    product, previous_lead, renew_same = _choose_products(rng, catalog, opp, places)
    quantity = _quantities(rng, catalog, product, previous_lead, renew_same)
    unit_price, discount = _unit_prices(rng, catalog, opp, rates, places, product)
    order_no = _order_numbers(rng, opp, places, product, quantity, unit_price)
    discount_factor = 1 - np.nan_to_num(discount) / 100
    opp_start = np.where(opp["start"] >= 0, opp["start"], opp["close"])[line_opp]
    n = line_opp.size
    total = np.round(quantity * unit_price * discount_factor, 2)
    service_date = np.where(rng.random(n) < 0.2, opp_start + rng.integers(0, 21, n), -1)
    exclude_draw = rng.random(n)
    revisions = _window_revisions(rng, catalog, opp, calendar, places, product, quantity)
    start = np.where(service_date >= 0, service_date, opp_start)
    return {
        "opportunity": line_opp,
        "position": position,
        "first_line": first_line,
        "lines_per_opp": lines_per_opp,
        "product": product,
        "quantity": quantity,
        "unit_price": unit_price,
        "discount": discount,
        "total": total,
        "total_before": np.round(revisions["quantity_before"] * unit_price * discount_factor, 2),
        **revisions,
        "service_date": service_date,
        "order_no": order_no,
        "exclude": np.where(exclude_draw < 0.03, 1, np.where(exclude_draw < 0.10, 0, -1)),
        "start": start,
        "item_end": _item_end(catalog, opp["term"][line_opp], product, start),
        "net_unit_price": np.round(unit_price * discount_factor, 2),
    }


def _lines_per_opportunity(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    """How many lines each deal has; some deals carry only a typed-in Amount, no products."""
    lines_per_opp = np.zeros(kind.size, dtype=np.int64)
    for deal_kind, weights in LINE_COUNT_WEIGHTS.items():
        mask = kind == deal_kind
        lines_per_opp[mask] = 1 + pick(rng, np.count_nonzero(mask), weights)
    lines_per_opp[rng.random(kind.size) < 0.02] = 0
    return lines_per_opp


def _choose_products(
    rng: np.random.Generator, catalog: dict, opp: dict, places: _LinePlaces
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The product of each line, by the deal's kind and the line's place on it; with the
    renewed term's lead line (-1 where none) and whether the line renews its product."""
    n = places.opportunity.size
    line_kind, lead = places.kind, places.lead
    product = np.zeros(n, dtype=np.int64)

    def draw(mask: np.ndarray, role_weights: dict[str, float]) -> None:
        rows = np.flatnonzero(mask)
        chosen_role = pick(rng, rows.size, list(role_weights.values()))
        for r, role in enumerate(role_weights):
            members = np.flatnonzero(np.isin(catalog["role"], (role,)))
            hit = rows[chosen_role == r]
            product[hit] = members[rng.integers(members.size, size=hit.size)]

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
    previous = opp["prev_anchor"][places.opportunity]
    previous_lead = np.where(previous >= 0, places.first_line[np.maximum(previous, 0)], -1)
    previous_has_lines = (previous >= 0) & (places.lines_per_opp[np.maximum(previous, 0)] > 0)
    renew_same = lead & (line_kind == RENEWAL) & previous_has_lines & (rng.random(n) < 0.8)
    product[renew_same] = product[previous_lead[renew_same]]

    # The retired 151-installment product appears on a rare extra line.
    extras = np.flatnonzero(~lead & anchor_kinds)
    broken = np.flatnonzero(catalog["role"] == "broken")[0]
    product[sample_at_least(rng, extras, 0.002)] = broken
    return product, previous_lead, renew_same


def _quantities(
    rng: np.random.Generator,
    catalog: dict,
    product: np.ndarray,
    previous_lead: np.ndarray,
    renew_same: np.ndarray,
) -> np.ndarray:
    """Each line's quantity by its product's quantity model; a renewal of the same product
    keeps the term's quantity, as real renewals do: most renew flat, some expand, a few
    shrink (rather than a fresh random seat count)."""
    n = product.size
    quantity = np.ones(n)
    model = catalog["quantity_model"][product]
    quantity = np.where(
        model == "seats", np.clip(np.round(rng.lognormal(np.log(20), 0.9, n)), 1, 2000), quantity
    )
    quantity = np.where(model == "addon_seats", rng.integers(5, 51, n), quantity)
    quantity = np.where(model == "units", np.minimum(rng.geometric(0.6, n), 10), quantity)
    quantity = np.where(model == "hours", rng.integers(4, 41, n), quantity)
    quantity = np.where(model == "usage", rng.integers(50, 2001, n), quantity)
    change = np.array([1.0, 1.1, 1.25, 1.5, 0.8])[pick(rng, n, [0.6, 0.15, 0.1, 0.05, 0.1])]
    for _ in range(12):  # a renewal of a renewal carries the carried quantity, term by term
        carried = np.maximum(1, np.round(quantity[np.maximum(previous_lead, 0)] * change))
        quantity = np.where(renew_same, carried, quantity)
    return quantity


def _unit_prices(
    rng: np.random.Generator,
    catalog: dict,
    opp: dict,
    rates: dict[str, float],
    places: _LinePlaces,
    product: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Unit price in the deal's currency: list price, sometimes negotiated, renewals
    uplifted; and a discount (NaN = none) on about a third of discountable lines.
    Non-usage prices are even whole numbers so every discounted net price is exact to cents."""
    n = product.size
    currency = opp["currency"][places.opportunity]
    fx = np.array([1.0] + [rates[c] for c in CURRENCIES[1:]])[currency]
    negotiated = 1 + np.where(rng.random(n) < 0.3, rng.choice([-0.1, -0.05, 0.05, 0.1], n), 0)
    uplift = np.where(places.kind == RENEWAL, 1.05, 1.0)
    raw_price = catalog["list_price"][product] * fx * negotiated * uplift
    discountable = catalog["discountable"][product]
    unit_price = np.where(
        discountable, np.maximum(2, np.round(raw_price / 2) * 2), np.round(raw_price, 2)
    )
    discount = np.where(
        discountable & (rng.random(n) < 0.35), rng.choice([5, 10, 12.5, 15, 20, 25], n), np.nan
    )
    return unit_price, discount


def _order_numbers(
    rng: np.random.Generator,
    opp: dict,
    places: _LinePlaces,
    product: np.ndarray,
    quantity: np.ndarray,
    unit_price: np.ndarray,
) -> np.ndarray:
    """Order numbers identify a subscription item across deals: most lines carry one, and a
    reorder or upgrade may reuse the number of an item of its term's anchor deal to
    replace that item (a reorder with more of the same product, an upgrade to a new tier).
    A reorder that reuses a number takes over that item's product, price and quantity
    (plus some), in place."""
    line_opp, lead, line_kind = places.opportunity, places.lead, places.kind
    n = line_opp.size
    order_no = np.where(rng.random(n) < 0.7, np.arange(n), -1)
    anchor_of_line = opp["anchor"][line_opp]
    anchor_lines = places.lines_per_opp[anchor_of_line]
    anchor_first = places.first_line[anchor_of_line]
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
    return order_no


def _window_revisions(
    rng: np.random.Generator,
    catalog: dict,
    opp: dict,
    calendar: Calendar,
    places: _LinePlaces,
    product: np.ndarray,
    quantity: np.ndarray,
) -> dict[str, np.ndarray]:
    """Window changes: a few open deals get a different quantity on their first line
    (quantity_before until revised_day), and a few extra lines are removed from open
    deals (on deleted_day)."""
    n = quantity.size
    quantity_before = quantity.copy()
    revised_day = np.full(n, NEVER)
    deleted_day = np.full(n, NEVER)
    if calendar.days > 1:
        still_open = (
            opp["open_at_end"]
            & (opp["created_day"] < calendar.first)
            & (opp["deleted_day"] == NEVER)
        )[places.opportunity]
        candidates = np.flatnonzero(
            places.lead & still_open & (catalog["quantity_model"][product] != "single")
        )
        revised = sample_at_least(rng, candidates, 0.01 * (calendar.days - 1))
        revised_day[revised] = window_day(rng, calendar, revised.size)
        change = rng.integers(1, 6, revised.size)
        quantity_before[revised] = np.where(
            quantity[revised] > change, quantity[revised] - change, quantity[revised] + change
        )
        candidates = np.flatnonzero(~places.lead & still_open)
        gone = sample_at_least(rng, candidates, 0.002 * (calendar.days - 1))
        deleted_day[gone] = window_day(rng, calendar, gone.size)
    return {
        "quantity_before": quantity_before,
        "revised_day": revised_day,
        "deleted_day": deleted_day,
    }


def _item_end(
    catalog: dict, opp_term: np.ndarray, product: np.ndarray, line_start: np.ndarray
) -> np.ndarray:
    """When the line's recurring item would end (for order items): start + term − 1 day."""
    installments = catalog["revenue_installments"][product]
    step_days = catalog["revenue_step_days"][product]
    scheduled_end = np.where(
        step_days > 0,
        line_start + installments * step_days - 1,
        term_end(line_start, installments * catalog["revenue_step_months"][product]),
    )
    item_end = np.where(
        catalog["has_revenue_schedule"][product] & (installments <= MAX_INSTALLMENTS),
        scheduled_end,
        np.where(catalog["is_recurring"][product], term_end(line_start, opp_term), line_start),
    )
    return np.where(catalog["is_one_time"][product], line_start, item_end)


def line_schedules(rng: np.random.Generator, lines: dict, opp: dict) -> dict[str, np.ndarray]:
    """Explicit OpportunityLineItemSchedule rows for ~3% of lines, summing to the line."""
    catalog = product_arrays()
    chosen, schedule_type = _scheduled_lines(rng, catalog, lines, opp)
    chosen_product = lines["product"][chosen]
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
    installments = np.where(installments > 0, np.minimum(installments, MAX_INSTALLMENTS), 12)

    row_line, k, _ = explode(installments)
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
        "date": installment_dates(lines["start"][chosen][row_line], k, period[row_line]),
        "revenue": np.where(row_type != 1, revenue_cents / 100, np.nan),
        "quantity": np.where(row_type != 0, quantity_split / 100, np.nan),
        "described": (rng.random(chosen.size) < 0.2)[row_line],
    }


def _scheduled_lines(
    rng: np.random.Generator, catalog: dict, lines: dict, opp: dict
) -> tuple[np.ndarray, np.ndarray]:
    """The lines that get explicit schedules (stable ones, one on a deleted deal) and each
    one's type: 0 Revenue, 1 Quantity (only where the product has quantity schedules) or
    2 Both; every type shows up even in a small sample."""
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
    chosen = sample_at_least(rng, candidates, 0.03, minimum=min(6, candidates.size))
    on_deleted_deal = candidates[opp["deleted_day"][lines["opportunity"][candidates]] < NEVER]
    chosen = np.union1d(chosen, on_deleted_deal[:1])
    schedule_type = pick(rng, chosen.size, [0.6, 0.25, 0.15])
    schedule_type[:2] = [0, 2][: chosen.size]
    can_quantity = catalog["has_quantity_schedule"][product[chosen]]
    schedule_type = np.where((schedule_type == 1) & ~can_quantity, 0, schedule_type)
    quantity_candidates = np.setdiff1d(
        candidates[catalog["has_quantity_schedule"][product[candidates]]], chosen
    )
    if not np.any(schedule_type == 1) and quantity_candidates.size:
        chosen = np.append(chosen, quantity_candidates[rng.integers(quantity_candidates.size)])
        schedule_type = np.append(schedule_type, 1)
    by_line = np.argsort(chosen, kind="stable")
    return chosen[by_line], schedule_type[by_line]
