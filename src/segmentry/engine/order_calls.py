"""The library's order calls, mixed into :class:`~segmentry.engine.shop.Shop`.

Orders are shown and taken in the API's shape: built-in attributes at the top
level (``lines`` a list of ``{"product_id", "quantity", "unit_price"}``),
declared order attributes under ``attributes``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import IO, TYPE_CHECKING, Any

from segmentry.engine import idempotency, imports
from segmentry.engine import orders as order_ops
from segmentry.engine.entities import Mode, collector_paused
from segmentry.engine.idempotency import Done, Once
from segmentry.engine.import_readers import ImportFormat
from segmentry.engine.order_imports import OrderRecords, check_date_format
from segmentry.engine.orders import OrderWrite
from segmentry.engine.shop_calls import ShopCalls
from segmentry.engine.transaction import Transaction
from segmentry.engine.types import Page, choice
from segmentry.model.schema import Kind, Schema

if TYPE_CHECKING:
    pass

Order = dict[str, Any]


class OrderCalls(ShopCalls):
    """Orders of one tenant: write, patch, read, delete, batches, imports."""

    def put_order(self, order_id: str, values: Mapping[str, Any]) -> Order:
        """Write a whole order (what it does not give is removed); returns it as stored.
        Its customer's and products' derived values and segments follow in the same
        transaction."""
        with self._write() as tx:
            (order,) = order_ops.write(tx, [OrderWrite(order_id, values)])
        return order.doc()

    def patch_order(self, order_id: str, patch: Mapping[str, Any]) -> Order:
        """A JSON merge patch of an order (``None`` removes; ``lines`` replace all)."""
        with self._write() as tx:
            (order,) = order_ops.write(tx, [OrderWrite(order_id, patch, Mode.PATCH)])
        return order.doc()

    def put_orders(self, items: Iterable[Mapping[str, Any]]) -> int:
        """Write a batch of orders (each with its ``id``), all or nothing."""
        with collector_paused():
            writes = _writes(items)
            with self._write() as tx:
                return len(order_ops.write(tx, writes))

    def put_orders_once(self, items: Iterable[Mapping[str, Any]], once: Once) -> Done[int]:
        """``put_orders`` that runs once per idempotency key (see ``engine.idempotency``)."""
        writes = _writes(items)

        def work(tx: Transaction) -> dict[str, Any]:
            return {"upserted": len(order_ops.write(tx, writes))}

        with collector_paused():
            done = idempotency.run(self._read, self._write, once, work)
        return Done(int(done.value["upserted"]), done.replayed)

    def order(self, order_id: str) -> Order:
        with self._read() as view:
            return order_ops.get(view.conn, view.state.tenant_id, order_id)

    def delete_order(self, order_id: str) -> None:
        with self._write() as tx:
            order_ops.delete(tx, order_id)

    def customer_orders(
        self, customer_id: str, *, limit: int = 100, cursor: str | None = None
    ) -> Page[Order]:
        """A customer's orders, newest first."""
        with self._read() as view:
            return order_ops.customer_orders(
                view.conn, view.state.tenant_id, customer_id, limit, cursor
            )

    def import_orders(
        self,
        source: IO[bytes],
        format: ImportFormat | str,
        *,
        columns: Mapping[str, str | None] | None = None,
        batch_size: int = imports.DEFAULT_BATCH,
        max_errors: int = imports.MAX_ERRORS,
        progress: Callable[[imports.Progress], None] | None = None,
        date_format: str | None = None,
    ) -> imports.ImportReport:
        """Stream orders in (see ``engine.order_imports``): JSON Lines, one order a line,
        or CSV, one row per order line (``date_format``: a ``strptime`` format of its
        ``placed_at`` cells, which are otherwise ISO 8601)."""
        request = self._order_request(
            format,
            columns=columns,
            batch_size=batch_size,
            max_errors=max_errors,
            progress=progress,
            date_format=date_format,
        )
        schema = self._order_schema()
        return imports.run(self._write, self.segmentry.now, schema, source, request)

    def import_orders_once(
        self,
        source: IO[bytes],
        format: ImportFormat | str,
        once: Once,
        *,
        columns: Mapping[str, str | None] | None = None,
        batch_size: int = imports.DEFAULT_BATCH,
        date_format: str | None = None,
    ) -> Done[imports.ImportReport]:
        request = self._order_request(
            format,
            columns=columns,
            batch_size=batch_size,
            max_errors=imports.MAX_ERRORS,
            progress=None,
            date_format=date_format,
        )
        return idempotency.import_once(
            self._read,
            self._write,
            clock=self.segmentry.now,
            schema=self._order_schema(),
            source=source,
            request=request,
            once=once,
        )

    def _order_schema(self) -> Schema:
        with self._read() as view:
            return view.state.schemas[Kind.ORDER]

    def _order_request(
        self,
        format: ImportFormat | str,
        *,
        columns: Mapping[str, str | None] | None,
        batch_size: int,
        max_errors: int,
        progress: Callable[[imports.Progress], None] | None,
        date_format: str | None,
    ) -> imports.ImportRequest:
        fmt = choice(ImportFormat, format, "format")
        records = OrderRecords(
            self._order_schema(), fmt, dict(columns or {}), check_date_format(date_format)
        )
        return imports.ImportRequest(
            Kind.ORDER,
            fmt,
            columns or {},
            batch_size,
            progress,
            records=records,
            max_errors=max_errors,
        )


def _writes(items: Iterable[Mapping[str, Any]]) -> list[OrderWrite]:
    return [OrderWrite(item.get("id"), item) for item in items]  # type: ignore[arg-type]
