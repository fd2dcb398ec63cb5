"""A tenant's orders in memory: what behaviour functions count.

Orders are kept by their dense order seq, like entities by theirs: the
order's encoded record (its attributes, for the conditions of
``orders_placed`` and ``amount_spent``) in a :class:`ColumnarTable`, and beside
it numpy arrays of its customer's seq, the moment it was placed, its total
(whole millionths) and whether it counts (placed, not cancelled or refunded,
and not deleted). Lines are flat arrays, appended: an order's lines are one
contiguous stretch, and replacing an order appends its new lines and marks
the old ones dead (:meth:`compact` reclaims them).

A line keeps its product's seq, or -1 while the product does not exist yet;
:meth:`product_appeared` matches such lines once it does. A guest order has
customer -1.

Both evaluators read it: the Python one answers for one entity through the
per-customer and per-product indexes, the columnar one reads the arrays
whole. The engine keeps it current in the write's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyroaring import BitMap

from segmentry.match import columns
from segmentry.match.columnar import ColumnarTable
from segmentry.match.time_zones import ZONE_BITS, TimeZones, seqs_of
from segmentry.model.bitmaps import ascending_bitmap
from segmentry.model.schema import Schema

NO_SEQ = -1


@dataclass(frozen=True, slots=True)
class PurchaseLine:
    """One line of an order as :meth:`Purchases.put` takes it."""

    product_id: str
    product_seq: int
    """The product's seq, or ``NO_SEQ`` while it does not exist."""
    quantity: int
    price_micros: int


@dataclass(frozen=True, slots=True)
class HeldArrays:
    """Orders as :meth:`Purchases.put_arrays` takes them: per order (ascending seqs) its
    customer's seq (``NO_SEQ``: a guest or no such customer), time, total and whether it
    counts; per line, ordered by order, the order's seq, product's seq (``NO_SEQ``: no
    such product yet), quantity and price, and ``waiting``: the place and product id of
    each line whose product does not exist."""

    seq: np.ndarray
    customer: np.ndarray
    placed_at: np.ndarray
    total: np.ndarray
    counted: np.ndarray
    line_order: np.ndarray
    line_product: np.ndarray
    line_quantity: np.ndarray
    line_price: np.ndarray
    waiting: list[tuple[int, str]]


class Purchases:
    """The orders of one tenant, by order seq, and their lines."""

    def __init__(
        self, order_schema: Schema, capacity: int = 1024, zone_bits: int = ZONE_BITS
    ) -> None:
        self.orders = ColumnarTable(order_schema, capacity)
        self.capacity = self.orders.capacity
        self.customer = np.full(self.capacity, NO_SEQ, dtype=np.int64)
        self.placed_at = np.zeros(self.capacity, dtype=np.int64)
        self.total = np.zeros(self.capacity, dtype=np.int64)
        self.counted = np.zeros(self.capacity, dtype=np.bool_)
        self.line_start = np.zeros(self.capacity, dtype=np.int64)
        self.line_count = np.zeros(self.capacity, dtype=np.int64)
        self.zones = TimeZones(self.capacity, zone_bits)
        self.lines = 0
        self.line_capacity = 1024
        self.line_order = np.zeros(self.line_capacity, dtype=np.int64)
        self.line_product = np.full(self.line_capacity, NO_SEQ, dtype=np.int64)
        self.line_quantity = np.zeros(self.line_capacity, dtype=np.int64)
        self.line_price = np.zeros(self.line_capacity, dtype=np.int64)
        self.line_alive = np.zeros(self.line_capacity, dtype=np.bool_)
        self._of_customer: dict[int, BitMap] = {}
        self._of_product: dict[int, BitMap] = {}
        """Live line rows naming each existing product."""
        self._waiting: dict[str, BitMap] = {}
        """Live line rows naming each product id that does not exist yet."""
        self._line_ids: dict[int, str] = {}
        """The product id of each waiting line row."""

    @property
    def size(self) -> int:
        """One past the highest order seq held."""
        return self.orders.size

    # -- writes ------------------------------------------------------------------------------

    def put(
        self,
        seq: int,
        *,
        record: Mapping[str, Any],
        customer_seq: int,
        placed_at: int,
        total_micros: int,
        counted: bool,
        lines: Sequence[PurchaseLine],
    ) -> None:
        """Set order ``seq`` (new or replaced) with its lines."""
        if seq < self.size and self.orders.alive[seq]:
            self.remove(seq)
        self.orders.put(seq, record)
        self._fit_orders()
        self.customer[seq] = customer_seq
        self.placed_at[seq] = placed_at
        self.zones.widen_one(seq, placed_at)
        self.total[seq] = total_micros
        self.counted[seq] = counted
        if customer_seq != NO_SEQ:
            self._of_customer.setdefault(customer_seq, BitMap()).add(seq)
        self._append_lines(seq, lines)

    def put_many(
        self,
        seqs: Sequence[int],
        *,
        records: Sequence[Mapping[str, Any]],
        customer_seqs: Sequence[int],
        placed_at: Sequence[int],
        total_micros: Sequence[int],
        counted: Sequence[bool],
        lines: Sequence[Sequence[PurchaseLine]],
    ) -> None:
        """:meth:`put` for many distinct orders none of which is held (a batch of new
        orders), as :meth:`put_arrays` takes them."""
        if not seqs:
            return
        self.orders.put_many(list(seqs), list(records), [None] * len(seqs))
        rank = np.argsort(np.asarray(seqs, dtype=np.int64), kind="stable")
        ranked = [lines[i] for i in rank.tolist()]
        flat = [line for ls in ranked for line in ls]
        counts = np.fromiter((len(ls) for ls in ranked), dtype=np.int64, count=len(ranked))
        ordered = np.asarray(seqs, dtype=np.int64)[rank]
        product = np.fromiter((ln.product_seq for ln in flat), dtype=np.int64, count=len(flat))
        self.put_arrays(
            HeldArrays(
                seq=ordered,
                customer=np.asarray(customer_seqs, dtype=np.int64)[rank],
                placed_at=np.asarray(placed_at, dtype=np.int64)[rank],
                total=np.asarray(total_micros, dtype=np.int64)[rank],
                counted=np.asarray(counted, dtype=np.bool_)[rank],
                line_order=np.repeat(ordered, counts),
                line_product=product,
                line_quantity=np.fromiter((ln.quantity for ln in flat), dtype=np.int64),
                line_price=np.fromiter((ln.price_micros for ln in flat), dtype=np.int64),
                waiting=[
                    (i, flat[i].product_id) for i in np.flatnonzero(product == NO_SEQ).tolist()
                ],
            )
        )

    def put_arrays(self, orders: HeldArrays) -> None:
        """Set the orders' numbers and lines, their records already put in
        :attr:`orders` (a tenant's orders loading, or a batch of new ones), a column at
        a time."""
        self._fit_orders()
        seqs = orders.seq
        self.customer[seqs] = orders.customer
        self.placed_at[seqs] = orders.placed_at
        self.zones.widen(seqs, orders.placed_at)
        self.total[seqs] = orders.total
        self.counted[seqs] = orders.counted
        self._index_customers(seqs, orders.customer)
        self._append_arrays(orders)

    def _index_customers(self, seqs: np.ndarray, customers: np.ndarray) -> None:
        """Index orders ``seqs`` (ascending) by their ``customers`` (guests aside)."""
        by_customer = np.argsort(customers, kind="stable")
        by_customer = by_customer[customers[by_customer] != NO_SEQ]
        if not len(by_customer):
            return
        names, firsts = np.unique(customers[by_customer], return_index=True)
        parts = np.split(seqs[by_customer], firsts[1:])
        for customer, part in zip(names.tolist(), parts, strict=True):
            held = self._of_customer.get(customer)
            if held is None:
                self._of_customer[customer] = ascending_bitmap(part)
            else:
                held |= ascending_bitmap(part)

    def _append_arrays(self, orders: HeldArrays) -> None:
        start, count = self.lines, len(orders.line_order)
        end = start + count
        self._fit_lines(end)
        owners, firsts, counts = np.unique(orders.line_order, return_index=True, return_counts=True)
        self.line_start[owners] = start + firsts
        self.line_count[owners] = counts
        self.line_order[start:end] = orders.line_order
        self.line_product[start:end] = orders.line_product
        self.line_quantity[start:end] = orders.line_quantity
        self.line_price[start:end] = orders.line_price
        self.line_alive[start:end] = True
        for offset, product_id in orders.waiting:
            self._waiting.setdefault(product_id, BitMap()).add(start + offset)
            self._line_ids[start + offset] = product_id
        self._index_products(start, orders.line_product)
        self.lines = end

    def _index_products(self, start: int, product: np.ndarray) -> None:
        """Index the new line rows from ``start`` (naming ``product``) by their product."""
        known = np.flatnonzero(product != NO_SEQ)
        if not len(known):
            return
        by_product = known[np.argsort(product[known], kind="stable")]
        names, firsts = np.unique(product[by_product], return_index=True)
        parts = np.split(by_product + start, firsts[1:])
        for name, part in zip(names.tolist(), parts, strict=True):
            self._of_product.setdefault(name, BitMap()).update(part.tolist())

    def remove(self, seq: int) -> None:
        """Forget order ``seq`` and its lines (a delete, or before a replace)."""
        if seq >= self.size or not self.orders.alive[seq]:
            return
        customer = int(self.customer[seq])
        if customer != NO_SEQ:
            self._of_customer[customer].discard(seq)
        start, count = int(self.line_start[seq]), int(self.line_count[seq])
        for row in range(start, start + count):
            self._unindex_line(row)
        self.line_alive[start : start + count] = False
        self.orders.put(seq, None, self.orders.record(seq))  # list items forget the row
        self.customer[seq] = NO_SEQ
        self.counted[seq] = False
        self.line_count[seq] = 0

    def product_appeared(self, product_id: str, seq: int) -> None:
        """A product now exists: the lines that named it by id are matched to its seq."""
        rows = self._waiting.pop(product_id, None)
        if not rows:
            return
        array = np.fromiter(rows, dtype=np.int64, count=len(rows))
        self.line_product[array] = seq
        self._of_product.setdefault(seq, BitMap()).update(rows)
        for row in rows:
            self._line_ids.pop(row, None)

    def _append_lines(self, seq: int, lines: Sequence[PurchaseLine]) -> None:
        start = self.lines
        self._fit_lines(start + len(lines))
        self.line_start[seq], self.line_count[seq] = start, len(lines)
        for offset, line in enumerate(lines):
            row = start + offset
            self.line_order[row] = seq
            self.line_product[row] = line.product_seq
            self.line_quantity[row] = line.quantity
            self.line_price[row] = line.price_micros
            self.line_alive[row] = True
            if line.product_seq == NO_SEQ:
                self._waiting.setdefault(line.product_id, BitMap()).add(row)
                self._line_ids[row] = line.product_id
            else:
                self._of_product.setdefault(line.product_seq, BitMap()).add(row)
        self.lines = start + len(lines)

    def _unindex_line(self, row: int) -> None:
        product = int(self.line_product[row])
        if product != NO_SEQ:
            self._of_product[product].discard(row)
            return
        product_id = self._line_ids.pop(row, None)
        if product_id is not None:
            self._waiting[product_id].discard(row)

    def _fit_orders(self) -> None:
        capacity = self.orders.capacity
        if capacity == self.capacity:
            return
        self.customer = columns.grown(self.customer, capacity, NO_SEQ)
        self.placed_at = columns.grown(self.placed_at, capacity, 0)
        self.total = columns.grown(self.total, capacity, 0)
        self.counted = columns.grown(self.counted, capacity, False)
        self.line_start = columns.grown(self.line_start, capacity, 0)
        self.line_count = columns.grown(self.line_count, capacity, 0)
        self.capacity = capacity

    def _fit_lines(self, needed: int) -> None:
        if needed <= self.line_capacity:
            return
        capacity = max(needed, self.line_capacity * 2)
        self.line_order = columns.grown(self.line_order, capacity, 0)
        self.line_product = columns.grown(self.line_product, capacity, NO_SEQ)
        self.line_quantity = columns.grown(self.line_quantity, capacity, 0)
        self.line_price = columns.grown(self.line_price, capacity, 0)
        self.line_alive = columns.grown(self.line_alive, capacity, False)
        self.line_capacity = capacity

    # -- reads for one entity -----------------------------------------------------------------

    def orders_of(self, customer_seq: int) -> BitMap:
        """The seqs of a customer's orders held (counted or not)."""
        return self._of_customer.get(customer_seq) or BitMap()

    def line_rows(self, order_seq: int) -> range:
        """The line rows of an order held."""
        start = int(self.line_start[order_seq])
        return range(start, start + int(self.line_count[order_seq]))

    def lines_of_product(self, product_seq: int) -> BitMap:
        """The live line rows naming an existing product."""
        return self._of_product.get(product_seq) or BitMap()

    def buyers_of(self, product_seqs: Iterable[int]) -> BitMap:
        """The customers with an order (counted or not) naming any of these products."""
        out = BitMap()
        for product in product_seqs:
            rows = self.lines_of_product(product)
            if rows:
                orders = self.line_order[np.fromiter(rows, dtype=np.int64, count=len(rows))]
                customers = self.customer[orders]
                out.update(int(c) for c in np.unique(customers) if c != NO_SEQ)
        return out

    def products_of(self, customer_seqs: Iterable[int]) -> BitMap:
        """The existing products named in these customers' orders (counted or not)."""
        out = BitMap()
        for customer in customer_seqs:
            for order in self.orders_of(customer):
                rows = self.line_product[self.line_rows(order).start : self.line_rows(order).stop]
                out.update(int(p) for p in rows if p != NO_SEQ)
        return out

    # -- reads for the sweep and for memory ---------------------------------------------------

    def placed_between(self, low: int, high: int) -> np.ndarray:
        """The counted orders placed in ``(low, high]``: those a window bound moving from
        ``low`` to ``high`` passed."""
        if low >= high:
            return np.zeros(0, dtype=np.int64)
        return self.counted_within(low + 1, high)

    def counted_within(self, low: int, high: int) -> np.ndarray:
        """The seqs of the counted orders placed in ``[low, high]``, ascending."""
        return seqs_of(self.counted_masks(low, high))

    def counted_masks(self, low: int, high: int) -> list[tuple[int, np.ndarray]]:
        """The counted orders placed in ``[low, high]`` as masks over stretches of seqs
        (:meth:`TimeZones.masks`)."""
        return self.zones.masks(self.counted, self.placed_at, self.size, (low, high))

    def compact(self) -> None:
        """Drop dead lines (left by replaced and deleted orders), renumbering line rows."""
        live = np.flatnonzero(self.line_alive[: self.lines])
        if len(live) == self.lines:
            return
        renumber = np.full(self.lines, NO_SEQ, dtype=np.int64)
        renumber[live] = np.arange(len(live), dtype=np.int64)
        for name in ("line_order", "line_product", "line_quantity", "line_price", "line_alive"):
            array = getattr(self, name)
            kept = array[live]
            array[: len(kept)] = kept
        self.line_alive[len(live) : self.lines] = False
        self.lines = len(live)
        starts = self.line_start[: self.size]
        with_lines = self.line_count[: self.size] > 0
        starts[with_lines] = renumber[starts[with_lines]]
        self._of_product = {p: _renumbered(rows, renumber) for p, rows in self._of_product.items()}
        self._waiting = {i: _renumbered(rows, renumber) for i, rows in self._waiting.items()}
        self._line_ids = {int(renumber[r]): i for r, i in self._line_ids.items()}

    def dead_lines(self) -> int:
        return self.lines - int(np.count_nonzero(self.line_alive[: self.lines]))

    def array_bytes(self) -> int:
        """Bytes of the arrays and indexes held (the order records' strings aside)."""
        arrays = (
            self.customer, self.placed_at, self.total, self.counted, self.line_start,
            self.line_count, self.line_order, self.line_product, self.line_quantity,
            self.line_price, self.line_alive, self.zones.low, self.zones.high,
        )  # fmt: skip
        indexes = [*self._of_customer.values(), *self._of_product.values()]
        indexes += self._waiting.values()
        return (
            sum(a.nbytes for a in arrays)
            + sum(len(b.serialize()) + 64 for b in indexes)
            + self.orders.array_bytes(lambda b: len(b.serialize()))
        )


def _renumbered(rows: BitMap, renumber: np.ndarray) -> BitMap:
    if not rows:
        return BitMap()
    array = np.fromiter(rows, dtype=np.int64, count=len(rows))
    return BitMap(int(r) for r in renumber[array])
