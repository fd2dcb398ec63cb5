"""Behaviour functions in memory: what the Python and columnar evaluators share.

The meaning is docs/behaviour.md's: only counted orders (placed, not deleted)
in the window ``[since, until]`` (both ends included) count; a condition is
over the order, the product bought or the buyer, and a product or buyer that
does not exist meets none. Values are whole numbers: counts, units, or money
in millionths (order totals and line prices are kept so), summed in int64, so
the compared value is turned into an exact integer :class:`Threshold` once
(``amount_spent() > 99.99`` is ``> 99_990_000`` millionths, not a float).

:func:`tally` is one entity's value (the Python evaluator and explain);
:func:`values_of_all` is every entity's at once with numpy (the columnar
evaluator and the rule index's vectorised pass).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from segmentry.match.behaviour_sums import per_order_sums, sums
from segmentry.match.columnar import ColumnarTable
from segmentry.match.order_view import OrderView
from segmentry.match.purchases import NO_SEQ, Purchases
from segmentry.model.bitmaps import array_of
from segmentry.model.schema import Kind
from segmentry.model.temporal import EvalContext, window
from segmentry.rules.ast import Behaviour
from segmentry.rules.operators import BY_ACT, Act, Op

INT64_MIN, INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)
MONEY = frozenset({Act.AMOUNT_SPENT, Act.REVENUE})
"""Functions whose value is money, kept in millionths."""
MONEY_DIGITS = 6
PER_ORDER = frozenset({Act.ORDERS_PLACED, Act.AMOUNT_SPENT})
"""Functions that count orders; the others count lines."""
BY_PRODUCT = frozenset({Act.UNITS_SOLD, Act.REVENUE})
"""Functions whose entity is the product named by a line; the others' is the buyer."""

Meets = Callable[[int], bool]
"""Whether the order, product or buyer of a seq meets a function's condition."""


def no_orders(node: Behaviour) -> LookupError:
    return LookupError(
        f"{node.act.value}() counts orders: evaluating it needs the tenant's orders "
        "(pass orders=OrderView(...))"
    )


def condition_kind(node: Behaviour) -> Kind:
    """The kind a function's condition is over: order, product or customer."""
    return Kind(BY_ACT[node.act].condition_kind)


def condition_table(node: Behaviour, orders: OrderView) -> ColumnarTable:
    """The records a function's condition reads: the orders', or that kind's entities'."""
    kind = condition_kind(node)
    return orders.purchases.orders if kind is Kind.ORDER else orders.tables[kind]


def bounds(node: Behaviour, ctx: EvalContext) -> tuple[int, int]:
    """The window at ``ctx`` as ``[low, high]`` microseconds, open ends at int64's ends."""
    low, high = window(node.since, node.until, ctx)
    return (INT64_MIN if low is None else low, INT64_MAX if high is None else high)


@dataclass(frozen=True, slots=True)
class Threshold:
    """The whole values a comparison lets through: ``[low, high]``, or everything
    outside it with ``outside`` (``!=``). Ends may lie beyond int64."""

    low: int
    high: int
    outside: bool = False

    def holds(self, value: int) -> bool:
        return (self.low <= value <= self.high) is not self.outside

    def mask(self, values: np.ndarray) -> np.ndarray:
        low, high = max(self.low, INT64_MIN), min(self.high, INT64_MAX)
        inside = (values >= low) & (values <= high) if low <= high else np.zeros_like(values, bool)
        out: np.ndarray = ~inside if self.outside else inside
        return out


def threshold(node: Behaviour) -> Threshold:
    """``op value`` over the function's whole values, exact: the value is read as the
    decimal it was written as and scaled to millionths for money."""
    assert node.op is not None, "purchased is a truth"
    assert node.value is not None, "purchased is a truth"
    value = node.value
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if node.act in MONEY:
        exact = exact.scaleb(MONEY_DIGITS)
    floor, ceil = math.floor(exact), math.ceil(exact)
    below, above = INT64_MIN - 1, INT64_MAX + 1
    ranges = {
        Op.EQ: Threshold(ceil, floor),  # empty when the value is not whole
        Op.NE: Threshold(ceil, floor, outside=True),
        Op.LT: Threshold(below, ceil - 1),
        Op.LE: Threshold(below, floor),
        Op.GT: Threshold(floor + 1, above),
        Op.GE: Threshold(ceil, above),
    }
    return ranges[node.op]


# -- one entity ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tally:
    """One entity's value of a function, and the seqs of the orders that made it."""

    value: int
    orders: list[int]


def tally(
    node: Behaviour, orders: OrderView, window_: tuple[int, int], meets: Meets | None, seq: int
) -> Tally:
    """The value of ``node`` for entity ``seq`` (a customer's or a product's): counted
    orders in the window, and with a condition only the orders, products or buyers
    ``meets`` lets in."""
    purchases, (low, high) = orders.purchases, window_

    def counts(order: int) -> bool:
        return bool(purchases.counted[order]) and low <= int(purchases.placed_at[order]) <= high

    if node.act in BY_PRODUCT:
        return _by_product(node, purchases, window_, meets, seq)
    value, made = 0, []
    for order in purchases.orders_of(seq):
        if not counts(order):
            continue
        if node.act in PER_ORDER:
            if meets is None or meets(order):
                value += 1 if node.act is Act.ORDERS_PLACED else int(purchases.total[order])
                made.append(order)
            continue
        rows = [
            row
            for row in purchases.line_rows(order)
            if meets is None or _exists_and(meets, int(purchases.line_product[row]))
        ]
        if rows:
            value += sum(int(purchases.line_quantity[row]) for row in rows)
            made.append(order)
    if node.act is Act.PURCHASED:
        value = int(value > 0)
    return Tally(value, made)


def _by_product(
    node: Behaviour,
    purchases: Purchases,
    window_: tuple[int, int],
    meets: Meets | None,
    seq: int,
) -> Tally:
    """A product's value over its own lines, at once with numpy: the lines of counted
    orders in the window, and with a condition those whose buyer exists and meets it
    (each buyer asked once)."""
    rows = array_of(purchases.lines_of_product(seq)).astype(np.int64)
    order = purchases.line_order[rows]
    placed = purchases.placed_at[order]
    low, high = window_
    taken = purchases.counted[order] & (placed >= low) & (placed <= high)
    if meets is not None and taken.any():
        buyer = purchases.customer[order]
        buyers = np.unique(buyer[taken])
        met = np.fromiter((_exists_and(meets, int(b)) for b in buyers), np.bool_, len(buyers))
        taken &= np.isin(buyer, buyers[met])
    rows, order = rows[taken], order[taken]
    quantity = purchases.line_quantity[rows]
    if node.act is Act.REVENUE:
        quantity = quantity * purchases.line_price[rows]
    return Tally(int(quantity.sum()), np.unique(order).tolist())


def _exists_and(meets: Meets, seq: int) -> bool:
    return seq != NO_SEQ and meets(seq)


def meets_of(table: ColumnarTable, test: Callable[[int], bool]) -> Meets:
    """``test`` for the live rows of ``table`` (a deleted or unknown seq meets nothing),
    each seq answered once (a product is named by many lines)."""
    answers: dict[int, bool] = {}

    def meets(seq: int) -> bool:
        found = answers.get(seq)
        if found is None:
            alive = 0 <= seq < table.size and bool(table.alive[seq])
            found = answers[seq] = alive and test(seq)
        return found

    return meets


# -- every entity ----------------------------------------------------------------------------


def values_of_all(
    node: Behaviour,
    purchases: Purchases,
    window_: tuple[int, int],
    where: np.ndarray | None,
    size: int,
) -> np.ndarray:
    """The value of ``node`` for every entity seq below ``size`` (int64; 0 or 1 for
    ``purchased``). ``where`` is the condition as a mask over the seqs of the kind it is
    over (orders, products or customers; a seq beyond it meets nothing), or ``None``.

    Per order (``orders_placed``, ``amount_spent``) the stretches of orders the window
    may hold are summed whole (:func:`per_order_sums`); per line only the counted
    orders in the window are read further, and only their lines (an order's lines are
    one stretch, so they are gathered, not searched for)."""
    if node.act in PER_ORDER:
        money = node.act is Act.AMOUNT_SPENT
        return per_order_sums(purchases, window_, where, size, money=money)
    picked = purchases.counted_within(*window_)
    rows, order = _lines_of(purchases, picked)
    by_product = node.act in BY_PRODUCT
    if where is not None:
        other = purchases.customer[order] if by_product else purchases.line_product[rows]
        met = _within(where, other)
        rows, order = rows[met], order[met]
    quantity = purchases.line_quantity[rows]
    if node.act is Act.REVENUE:
        quantity = quantity * purchases.line_price[rows]
    entity = purchases.line_product[rows] if by_product else purchases.customer[order]
    out = sums(entity, quantity, size)
    if node.act is Act.PURCHASED:
        out = (out > 0).astype(np.int64)
    return out


def _lines_of(purchases: Purchases, orders: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The line rows of ``orders`` (live orders: their lines are live), and each row's
    order."""
    counts = purchases.line_count[orders]
    total = int(counts.sum())
    ends = np.cumsum(counts)
    # each row: its order's first line, plus its place among the order's lines
    shift = np.repeat(purchases.line_start[orders] - (ends - counts), counts)
    rows = shift + np.arange(total, dtype=np.int64)
    return rows, np.repeat(orders, counts)


def _within(mask: np.ndarray, seqs: np.ndarray) -> np.ndarray:
    """Whether each seq is set in ``mask``; ``NO_SEQ`` and seqs beyond it are not."""
    padded = np.zeros(len(mask) + 1, dtype=np.bool_)  # its last place answers NO_SEQ
    padded[: len(mask)] = mask
    out: np.ndarray = padded[np.minimum(seqs, len(mask))]
    return out
