"""Synthetic Salesforce-like CRM snapshots (SPEC §7): test and demo data, not the runtime.

`generate()` invents a SaaS company's CRM history over about three years before `end_date`
(new logos, reorders, upgrades, renewals won and lost, churn and win-backs, quotes, orders,
contracts, splits, multi-currency deals, duplicate accounts) and writes `days` daily full
exports of it, `out_dir/<YYYY-MM-DD>/<Object>.csv`, with the Salesforce API field names
ingest declares (dagster_project/lib/crm_schema.py) as headers.

How it works, module by module:

1. `world` builds one world once, column by column with numpy (no loop over accounts or
   deals), from `catalog` (products, currencies, the sales team, the stage ladder),
   `accounts`, `lifecycle` (deals, renewals, splits, the pipeline's day to day moves),
   `line_items` and `quote_to_cash` (quotes, contracts, orders and their items).
2. For each snapshot day, `snapshot` keeps the records that exist on that day and
   evaluates the moving fields as of that day; `writer` formats and writes the CSVs.

So an earlier snapshot is always an older state of a later one, every foreign key points
at a row of the same snapshot (children are never created before, nor kept after, their
parents), and the same (accounts, days, seed, end_date) always gives byte-identical files.
Row counts grow linearly with `accounts`; 1M accounts stay within a few GB of memory.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from synthetic_crm.snapshot import snapshot
from synthetic_crm.timeline import HISTORY_DAYS, Calendar, epoch_day
from synthetic_crm.world import build_world
from synthetic_crm.writer import write_object

DEFAULT_END_DATE = date(2026, 11, 16)

__all__ = ["DEFAULT_END_DATE", "HISTORY_DAYS", "generate"]


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
    calendar = Calendar(end=epoch_day(end_date), days=days, history_days=history_days)
    world = build_world(np.random.default_rng(seed), accounts, calendar)
    out_dir = Path(out_dir)
    rows: dict[str, int] = {}
    for day in calendar.snapshot_days:
        snapshot_date = date(1970, 1, 1) + timedelta(days=day)
        folder = out_dir / snapshot_date.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        for object_name, frame in snapshot(world, day):
            rows[object_name] = write_object(folder, object_name, frame)
            if progress is not None:
                progress(f"{snapshot_date} {object_name}: {rows[object_name]:,} rows")
    return rows
