"""Per-entity sums for behaviour functions, exact in int64 though numpy sums them in
float64.

``bincount`` sums its weights in float64, exact while no partial sum of an entity
can pass 2**53; the checks here say when that holds, cheapest first, and fall back
to sums of the weights' high and low bits, or to ``np.add.at``, when it may not.

:func:`per_order_sums` is ``orders_placed`` and ``amount_spent`` over every
customer: the stretches of order seqs a window may hold are read whole, an order
outside the window (or uncounted, or failing the condition) left in with a weight
of zero instead of picked out, so no column is gathered order by order.
"""

from __future__ import annotations

import numpy as np

from segmentry.match.purchases import Purchases
from segmentry.match.time_zones import seqs_of

EXACT = 2**53
"""Below this, float64 holds every whole number exactly."""


def per_order_sums(
    purchases: Purchases,
    window_: tuple[int, int],
    where: np.ndarray | None,
    size: int,
    *,
    money: bool,
) -> np.ndarray:
    """For every customer seq below ``size``: how many counted orders in the window
    (meeting ``where``, a mask over order seqs) it placed, or with ``money`` the sum
    of their totals, in int64."""
    masks = purchases.counted_masks(*window_)
    length = sum(len(taken) for _, taken in masks)
    slot = np.empty(length, dtype=np.int64)  # the customer's seq + 1: a guest's is 0
    weight = np.empty(length, dtype=np.float64)
    at = 0
    for start, in_window in masks:
        stop, place = start + len(in_window), slice(at, at + len(in_window))
        taken = in_window if where is None else in_window & _mask_part(where, start, stop)
        np.add(purchases.customer[start:stop], 1, out=slot[place])
        if money:
            np.multiply(purchases.total[start:stop], taken, out=weight[place], casting="unsafe")
        else:
            weight[place] = taken
        at = place.stop
    if money and not _float_exact(weight):
        picked = _picked(masks, where)
        return sums(purchases.customer[picked], purchases.total[picked], size)
    return counted(slot, weight, size)


def _mask_part(mask: np.ndarray, start: int, stop: int) -> np.ndarray:
    """``mask[start:stop]``, false beyond its end."""
    part = np.zeros(stop - start, dtype=np.bool_)
    held = mask[start:stop]
    part[: len(held)] = held
    return part


def _picked(masks: list[tuple[int, np.ndarray]], where: np.ndarray | None) -> np.ndarray:
    """The seqs the masks (and ``where``) take, ascending."""
    if where is not None:
        masks = [(s, m & _mask_part(where, s, s + len(m))) for s, m in masks]
    return seqs_of(masks)


def _float_exact(weight: np.ndarray) -> bool:
    """Whether the weights, whole numbers turned into float64, were so exactly and any
    sum of some of them is exact: the sum of their sizes stays below 2**52 (half of
    float64's exact range, far beyond the rounding of that sum itself). A weight of
    2**53 or more would make it pass, so each was exact too."""
    if not len(weight):
        return True
    least = float(weight.min())
    total = float(weight.sum()) if least >= 0 else float(np.abs(weight).sum())
    return total <= EXACT // 2


def sums(entity: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    """Per entity seq below ``size``: how many ``entity`` entries name it, or the sum
    of their ``weights``, exactly in int64 (``NO_SEQ`` and seqs beyond are left out):
    at once when the entries (or the busiest entity's) are few or small enough, else as
    two sums of the weights' high and low bits; beyond even those (weights near int64's
    ends), ``np.add.at``."""
    shifted = entity + 1  # NO_SEQ counts in place 0, cut off with those beyond size
    if weights is None:
        return counted(shifted, None, size)
    weighed = weights.astype(np.int64, copy=False)
    if not len(weighed):
        return np.zeros(size, dtype=np.int64)
    largest, entries = max(-int(weighed.min()), int(weighed.max())), len(weighed)
    if largest * entries <= EXACT:
        return counted(shifted, weighed, size)
    # No partial sum of an entity passes its entries times the largest weight: when
    # the busiest entity's bound stays exact, one pass does (its count is cheap; the
    # places of guests and seqs beyond ``size`` are cut off, so they may be inexact).
    busiest = np.bincount(shifted, minlength=size + 1)[1 : size + 1]
    if size and largest * int(busiest.max()) <= EXACT:
        return counted(shifted, weighed, size)
    low_bits = (EXACT // entries).bit_length() - 1  # entries * 2**low_bits <= 2**53
    if low_bits > 0 and ((largest >> low_bits) + 1) * entries <= EXACT:
        high, low = weighed >> low_bits, weighed & ((1 << low_bits) - 1)
        both: np.ndarray = (counted(shifted, high, size) << low_bits) + counted(shifted, low, size)
        return both
    kept = (entity >= 0) & (entity < size)
    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, entity[kept], weighed[kept])
    return out


def counted(shifted: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    """``bincount`` of seqs shifted up by one, back to seqs ``0 .. size - 1``."""
    summed = np.bincount(shifted, weights=weights, minlength=size + 1)[1 : size + 1]
    return summed.astype(np.int64)
