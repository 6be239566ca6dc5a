"""A bounded, mergeable sample of durations for percentiles (reservoir sampling).

Up to `RESERVOIR_SIZE` values are kept exactly, so percentiles are exact for groups of that
many entries or fewer. Beyond, the reservoir holds a uniform random sample (Vitter's
algorithm R) and a percentile is the sample's. Error: the reported p-quantile's rank among all
values has a standard deviation of about ``sqrt(p·(1−p)/k)`` for a sample of k values (the
binomial proportion's), so with k = 1024 the reported p95 lies between the true p93 and p97
with 99.7 % probability (3 σ ≈ 2.0 points); p50 within ±4.7 points. Merging two reservoirs
(the Dask engine's partial summaries) draws from each in proportion to how many values it has
seen, which keeps the sample uniform, so the same bound holds.
"""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Sequence

__all__ = ["RESERVOIR_SIZE", "Reservoir", "percentile"]

RESERVOIR_SIZE = 1024


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` quantile with linear interpolation between ranks (numpy's default).

    Example:
        >>> percentile([1.0, 2.0, 3.0, 4.0], 0.5)
        2.5
    """
    if not values:
        return None
    ordered = sorted(values)
    pos = fraction * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


class Reservoir:
    """Durations seen: how many, and a uniform sample of at most ``size`` of them."""

    __slots__ = ("_rng", "seen", "size", "values")

    def __init__(self, seed: str, size: int = RESERVOIR_SIZE) -> None:
        self.size = size
        self.seen = 0
        self.values = array("d")
        # Seeded from the group key, so a run is repeatable and partitions sample independently.
        self._rng = random.Random(seed)

    def add(self, value: float) -> None:
        """Offer one value (algorithm R: keep it with probability size/seen)."""
        self.seen += 1
        if len(self.values) < self.size:
            self.values.append(value)
            return
        slot = self._rng.randrange(self.seen)
        if slot < self.size:
            self.values[slot] = value

    def merge(self, other: Reservoir) -> None:
        """Fold another reservoir in; exact while both together hold every value seen."""
        total = self.seen + other.seen
        if len(self.values) + len(other.values) <= self.size and total == len(self.values) + len(
            other.values
        ):
            self.values.extend(other.values)
            self.seen = total
            return
        take = min(round(self.size * self.seen / total), len(self.values)) if total else 0
        take_other = min(self.size - take, len(other.values))
        take = min(self.size - take_other, len(self.values))
        mine = self._rng.sample(list(self.values), take)
        theirs = self._rng.sample(list(other.values), take_other)
        self.values = array("d", mine + theirs)
        self.seen = total

    def percentile(self, fraction: float) -> float | None:
        """The sample's ``fraction`` quantile (see the module's error bound)."""
        return percentile(self.values, fraction)

    def __getstate__(self) -> tuple[int, int, bytes, object]:
        return (self.size, self.seen, self.values.tobytes(), self._rng.getstate())

    def __setstate__(self, state: tuple[int, int, bytes, object]) -> None:
        self.size, self.seen, raw, rng = state
        self.values = array("d")
        self.values.frombytes(raw)
        self._rng = random.Random()
        self._rng.setstate(rng)  # type: ignore[arg-type]
