"""The library's entity calls, mixed into :class:`~segmentry.engine.shop.Shop`:
write, patch, read, list and delete customers and products, one at a time or in
batches, and import them from files.

With ``nested``, values come in the outside shape (custom attributes under
``attributes``) and are flattened with the schema the write itself holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import IO, TYPE_CHECKING, Any

from segmentry.engine import entities as entity_ops
from segmentry.engine import idempotency, imports, listings, reads
from segmentry.engine.entities import Mode, Write, Written
from segmentry.engine.idempotency import Done, Once
from segmentry.engine.import_readers import ImportFormat
from segmentry.engine.shop_calls import ShopCalls
from segmentry.engine.transaction import Transaction
from segmentry.engine.types import Entity, Membership, Page, choice
from segmentry.model.nesting import flatten
from segmentry.model.schema import Kind, Schema, segmented
from segmentry.rules.load import RuleSource

if TYPE_CHECKING:
    pass


class EntityCalls(ShopCalls):
    """Customers and products of one tenant: write, patch, read, list, delete,
    batches, imports."""

    def attributes_schema(self, kind: Kind | str) -> Schema:
        raise NotImplementedError  # pragma: no cover - Shop's

    def upsert(
        self,
        kind: Kind | str,
        entity_id: str,
        values: Mapping[str, Any],
        *,
        nested: bool = False,
    ) -> Entity:
        """Write all of an entity's attributes (those not given are removed). With
        ``nested``, ``values`` is in the outside shape (custom attributes under
        ``attributes``), flattened with the schema the write itself holds."""
        return self._write_one(kind, entity_id, values, nested, Mode.REPLACE)

    def patch(
        self,
        kind: Kind | str,
        entity_id: str,
        patch: Mapping[str, Any],
        *,
        nested: bool = False,
    ) -> Entity:
        """Change some attributes; ``None`` removes one (a JSON merge patch); ``nested``
        as for :meth:`upsert`."""
        return self._write_one(kind, entity_id, patch, nested, Mode.PATCH)

    def _write_one(
        self, kind: Kind | str, entity_id: str, values: Mapping[str, Any], nested: bool, mode: Mode
    ) -> Entity:
        kind = segmented(kind)
        with self._write() as tx:
            flat = _flat(tx, kind, values, nested=nested)
            (doc,) = entity_ops.write(tx, kind, [Write(entity_id, flat, mode)])
            return reads.entity_of(tx.state, kind, entity_id, doc)

    def upsert_many(
        self, kind: Kind | str, items: Iterable[Mapping[str, Any]], *, nested: bool = False
    ) -> int:
        """Write a batch, all or nothing; each item carries its ``id``; ``nested`` as
        for :meth:`upsert`."""
        kind = segmented(kind)
        with entity_ops.collector_paused():
            items = list(items)
            with self._write() as tx:
                return len(entity_ops.write(tx, kind, _writes(tx, kind, items, nested=nested)))

    def upsert_many_once(
        self,
        kind: Kind | str,
        items: Iterable[Mapping[str, Any]],
        once: Once,
        *,
        nested: bool = False,
    ) -> Done[int]:
        """``upsert_many`` that runs once per idempotency key: a retry with the same key
        and fingerprint replays the count and writes nothing (see ``engine.idempotency``)."""
        kind = segmented(kind)

        def work(tx: Transaction) -> dict[str, Any]:
            writes = _writes(tx, kind, listed, nested=nested)
            return {"upserted": len(entity_ops.write(tx, kind, writes))}

        with entity_ops.collector_paused():
            listed = list(items)
            done = idempotency.run(self._read, self._write, once, work)
        return Done(int(done.value["upserted"]), done.replayed)

    def upsert_valid(self, kind: Kind | str, items: Iterable[Mapping[str, Any]]) -> Written:
        """Write the valid items of a batch in one transaction and say why the
        others were left out (an import's batch); ``upsert_many`` refuses them all."""
        kind = segmented(kind)
        with entity_ops.collector_paused():
            items = list(items)
            with self._write() as tx:
                return entity_ops.write_valid(tx, kind, _writes(tx, kind, items))

    def delete(self, kind: Kind | str, entity_id: str) -> None:
        with self._write() as tx:
            entity_ops.delete(tx, segmented(kind), entity_id)

    def get(self, kind: Kind | str, entity_id: str) -> Entity:
        with self._read() as view:
            return reads.entity(view.conn, view.state, segmented(kind), entity_id)

    def get_many(self, kind: Kind | str, entity_ids: Iterable[str]) -> list[Entity]:
        """Up to 1,000 entities in one read, in the order asked; ids that name no
        entity are left out (a page of members shown with their attributes)."""
        with self._read() as view:
            return reads.entities_by_ids(view.conn, view.state, segmented(kind), list(entity_ids))

    def entities(
        self,
        kind: Kind | str,
        rule: RuleSource | None = None,
        *,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Entity]:
        """Entities in the order they were first written; with ``rule``, only those it
        selects (answered from the columnar snapshot, as a preview is)."""
        with self._read() as view:
            return listings.list_entities(view, segmented(kind), rule, limit, cursor)

    def segments_of(self, kind: Kind | str, entity_id: str) -> list[Membership]:
        with self._read() as view:
            return reads.segments_of(view.conn, view.state, segmented(kind), entity_id)

    # -- imports ---------------------------------------------------------------------------

    def import_file(
        self,
        kind: Kind | str,
        source: IO[bytes],
        format: ImportFormat | str,
        *,
        columns: Mapping[str, str | None] | None = None,
        batch_size: int = imports.DEFAULT_BATCH,
        progress: Callable[[imports.Progress], None] | None = None,
    ) -> imports.ImportReport:
        """Stream a CSV or JSON Lines file in, batch by batch (see ``engine.imports``)."""
        kind = segmented(kind)
        request = imports.ImportRequest(
            kind, choice(ImportFormat, format, "format"), columns or {}, batch_size, progress
        )
        schema = self.attributes_schema(kind)
        return imports.run(self._write, self.segmentry.now, schema, source, request)

    def import_file_once(
        self,
        kind: Kind | str,
        source: IO[bytes],
        format: ImportFormat | str,
        once: Once,
        *,
        columns: Mapping[str, str | None] | None = None,
        batch_size: int = imports.DEFAULT_BATCH,
    ) -> Done[imports.ImportReport]:
        """``import_file`` that runs once per idempotency key: a retry replays the import's
        final report (``IdempotencyKeyInFlightError`` while it is still running)."""
        kind = segmented(kind)
        request = imports.ImportRequest(
            kind, choice(ImportFormat, format, "format"), columns or {}, batch_size
        )
        schema = self.attributes_schema(kind)
        return idempotency.import_once(
            self._read,
            self._write,
            clock=self.segmentry.now,
            schema=schema,
            source=source,
            request=request,
            once=once,
        )

    def import_report(self, import_id: str) -> imports.ImportReport:
        with self._read() as view:
            return imports.find(view.conn, view.state.tenant_id, import_id, view.now_us)

    def imports(self, *, limit: int = 100) -> list[imports.ImportReport]:
        with self._read() as view:
            return imports.latest(view.conn, view.state.tenant_id, limit, view.now_us)


def _flat(
    tx: Transaction, kind: Kind, values: Mapping[str, Any], *, nested: bool, where: str = ""
) -> Mapping[str, Any]:
    """The flat values of a write, from the outside shape when ``nested``."""
    return flatten(tx.state.schemas[kind], values, where=where) if nested else values


def _writes(
    tx: Transaction, kind: Kind, items: list[Mapping[str, Any]], *, nested: bool = False
) -> list[Write]:
    """Whole-entity writes of items that carry their ``id``. Built with the collector
    paused: a full collection here would walk every live object the caller holds."""
    if nested:
        items = [
            _flat(tx, kind, item, nested=True, where=f"item {n}") for n, item in enumerate(items)
        ]
    return [Write(item.get("id"), item) for item in items]  # type: ignore[arg-type]
