"""What behaviour functions read besides the entity itself (:class:`OrderView`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from segmentry.match.columnar import ColumnarTable
from segmentry.match.purchases import Purchases
from segmentry.model.schema import Kind


@dataclass(frozen=True, slots=True)
class OrderView:
    """What behaviour functions read besides the entity itself: the tenant's orders,
    and its current customers and products (the records their conditions are over,
    by seq). Memberships for ``IN SEGMENT`` inside a condition come from the same
    ``members`` callable as the rule's own, by segment code."""

    purchases: Purchases
    tables: Mapping[Kind, ColumnarTable]
    order_ids: Callable[[Sequence[int]], list[str]] | None = None
    """The ids of orders by seq, as the shop wrote them, for explain (the records hold
    them case-folded, as the language compares text); without it, the records' ids."""
    counted: dict[tuple[Any, ...], np.ndarray] | None = None
    """Where given: the values of behaviour functions over every entity, kept by function
    (without its comparison) for a caller under which the orders, the records and the
    moment stand still, such as one re-checking pass over many segments, whose rules
    often count the same thing. Functions whose condition names a segment are not
    kept (the pass moves memberships)."""
