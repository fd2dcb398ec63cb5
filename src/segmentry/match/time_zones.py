"""Where among the order seqs a window of time finds its orders: for each zone of
consecutive seqs, the least and the greatest moment an order of it was placed at.

Orders mostly arrive in the order they were placed, so a window (the last 30 days)
is a stretch of seqs: the zones wholly inside it are taken without testing each
order's moment, those wholly outside are skipped, and only the zones at its edges
are tested order by order. The bounds only ever widen (a removed or replaced
order's moment stays in them), so every held order's moment lies within its zone's
bounds; with orders in no particular order every zone straddles the window and
every order is tested, as without the zones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmentry.match import columns

ZONE_BITS = 12
"""A zone is 4,096 consecutive seqs: 1,221 zones over five million orders."""
MOST_STRETCHES = 64
"""Past this many stretches (moments jumbled zone by zone) the seqs are tested whole,
a few passes of numpy instead of many small ones."""
INT64_MIN, INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)


@dataclass(frozen=True, slots=True)
class Stretch:
    """Seqs ``[start, stop)`` a window may hold; ``tested``: only those of them whose
    moment falls in it (else every one of them)."""

    start: int
    stop: int
    tested: bool


class TimeZones:
    """The bounds of the moments placed in each zone of seqs."""

    def __init__(self, capacity: int, bits: int = ZONE_BITS) -> None:
        self.bits = bits
        zones = ((max(capacity, 1) - 1) >> bits) + 1
        self.low = np.full(zones, INT64_MAX, dtype=np.int64)
        self.high = np.full(zones, INT64_MIN, dtype=np.int64)

    def widen_one(self, seq: int, placed_at: int) -> None:
        """Order ``seq`` is placed at ``placed_at``."""
        zone = seq >> self.bits
        self._fit(zone + 1)
        self.low[zone] = min(int(self.low[zone]), placed_at)
        self.high[zone] = max(int(self.high[zone]), placed_at)

    def widen(self, seqs: np.ndarray, placed_at: np.ndarray) -> None:
        """Orders ``seqs`` are placed at ``placed_at``."""
        if not len(seqs):
            return
        zone = seqs >> self.bits
        self._fit(int(zone.max()) + 1)
        np.minimum.at(self.low, zone, placed_at)
        np.maximum.at(self.high, zone, placed_at)

    def stretches(self, low: int, high: int, size: int) -> list[Stretch]:
        """The stretches of seqs below ``size`` that may hold a moment in ``[low, high]``,
        ascending."""
        zones = min(len(self.low), ((size - 1) >> self.bits) + 1) if size > 0 else 0
        zone_low, zone_high = self.low[:zones], self.high[:zones]
        touched = (zone_high >= low) & (zone_low <= high)
        state = touched.astype(np.int8) + (touched & (zone_low >= low) & (zone_high <= high))
        # 0: skipped, 1: tested, 2: taken whole; a run of one state is one stretch
        edges = np.flatnonzero(state[1:] != state[:-1]) + 1
        starts = np.concatenate(([0], edges)) if zones else edges
        kinds = state[starts]
        kept = np.flatnonzero(kinds)
        if len(kept) > MOST_STRETCHES:
            return [Stretch(0, size, tested=True)]
        stops = np.append(starts[1:], zones)
        return [
            Stretch(
                int(starts[k]) << self.bits,
                min(int(stops[k]) << self.bits, size),
                tested=bool(kinds[k] == 1),
            )
            for k in kept.tolist()
        ]

    def masks(
        self, counted: np.ndarray, placed_at: np.ndarray, size: int, window: tuple[int, int]
    ) -> list[tuple[int, np.ndarray]]:
        """The orders below ``size`` that are ``counted`` and placed in the window
        ``[low, high]``, as masks over the stretches of seqs that may hold them (each
        from its first seq, ascending; a view of ``counted`` where a stretch lies wholly
        inside the window, so never to be written to)."""
        low, high = window
        masks = []
        for stretch in self.stretches(low, high, size):
            start, stop = stretch.start, stretch.stop
            taken = counted[start:stop]
            if stretch.tested:
                placed = placed_at[start:stop]
                taken = taken & (placed >= low) & (placed <= high)
            masks.append((start, taken))
        return masks

    def _fit(self, zones: int) -> None:
        if zones <= len(self.low):
            return
        grown = max(zones, 2 * len(self.low))
        self.low = columns.grown(self.low, grown, INT64_MAX)
        self.high = columns.grown(self.high, grown, INT64_MIN)


def seqs_of(masks: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """The seqs the masks of :meth:`TimeZones.masks` take, ascending."""
    parts = []
    for start, taken in masks:
        found = np.flatnonzero(taken)
        found += start
        parts.append(found)
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
