"""Vectorised draws and lookups the generator's steps share (no loop over records)."""

from __future__ import annotations

import numpy as np
import polars as pl


def explode(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Children of a ragged one-to-many: (parent index, position within parent, first child)."""
    counts = np.asarray(counts, dtype=np.int64)
    first_child = np.cumsum(counts) - counts
    parent = np.repeat(np.arange(counts.size), counts)
    position = np.arange(parent.size) - first_child[parent]
    return parent, position, first_child


def business_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """A time of day between 08:00 and 19:00 UTC, to the minute."""
    return rng.integers(8 * 60, 19 * 60, size=n).astype(np.int64) * 60


def pick(rng: np.random.Generator, n: int, weights) -> np.ndarray:
    """n draws of an index into `weights`, each as likely as its weight."""
    weights = np.asarray(weights, dtype=np.float64)
    return rng.choice(weights.size, size=n, p=weights / weights.sum())


def sample_at_least(
    rng: np.random.Generator, candidates: np.ndarray, share: float, minimum: int = 1
) -> np.ndarray:
    """A random subset of `candidates` of about `share` of them, but at least `minimum`,
    so that every branch of the data shows up even in a small sample."""
    count = min(candidates.size, max(minimum, round(share * candidates.size)))
    return np.sort(rng.choice(candidates, size=count, replace=False)) if count else candidates[:0]


def gather(values: tuple | list, codes: np.ndarray) -> pl.Series:
    """Strings (or nulls) of a small vocabulary looked up by integer code."""
    return pl.Series(list(values), dtype=pl.String).gather(np.asarray(codes, dtype=np.int64))
