"""Writing products and customers: validate, store, and update every segment
in the same transaction.

A batch is all or nothing: every item is validated before anything is
written, and the error names the first problems with their item numbers.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from operator import attrgetter
from typing import Any, NamedTuple, cast

import numpy as np

from segmentry.engine import behaviour, entity_rows, order_values
from segmentry.engine.derivation import DERIVED, derive, stamp_and_derive
from segmentry.engine.matcher import matcher_for
from segmentry.engine.transaction import Transaction
from segmentry.engine.types import Cause
from segmentry.errors import NotFoundError, ValidationError
from segmentry.model.batch_encoder import Encoder
from segmentry.model.batch_values import validate_many
from segmentry.model.schema import Kind, Schema, segmented
from segmentry.model.values import (
    CONTROL_OR_SURROGATE,
    MAX_ID_LENGTH,
    Document,
    check_id,
    format_instant,
    validate,
)
from segmentry.store import entities as entity_store
from segmentry.store import members as member_store
from segmentry.store.entities import EntityRow

MAX_BATCH = 10_000
MAX_REPORTED = 20


class Mode(StrEnum):
    REPLACE = "replace"
    PATCH = "patch"


class Write(NamedTuple):
    """One entity to write: all its attributes (replace) or a merge patch. A named
    tuple, immutable like a frozen dataclass but made several times faster: a batch
    makes one per item."""

    id: str
    values: Mapping[str, Any]
    mode: Mode = Mode.REPLACE


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a batch write. A batch allocates
    tens of thousands of small dicts, lists and tuples (documents, records), none in a
    reference cycle, so reference counting frees them all; but each automatic
    collection walks every live object, and those passes took half the time of
    validating a batch. The collector's state is restored afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write(
    tx: Transaction, kind: Kind, items: Sequence[Write], *, cause: Cause = Cause.ENTITY_CHANGED
) -> list[Document]:
    """Write entities, all or nothing; returns their stored documents in order. ``cause``:
    what the membership events say moved them (an order creates its unknown customer)."""
    return _write(tx, kind, items, keep_going=False, cause=cause).docs


@dataclass(frozen=True, slots=True)
class Written:
    """What :func:`write_valid` did: the documents stored, in order, and the
    problems of each item it left out, by item number."""

    docs: list[Document]
    rejected: dict[int, tuple[str, ...]]


def write_valid(tx: Transaction, kind: Kind, items: Sequence[Write]) -> Written:
    """Write the items that are valid and leave out the others, saying why.

    An import uses this: each of its batches is one transaction that stores
    every valid line and none of the invalid ones."""
    return _write(tx, kind, items, keep_going=True)


def _write(
    tx: Transaction,
    kind: Kind,
    items: Sequence[Write],
    *,
    keep_going: bool,
    cause: Cause = Cause.ENTITY_CHANGED,
) -> Written:
    segmented(kind)
    if len(items) > MAX_BATCH:
        raise ValidationError(f"a batch holds at most {MAX_BATCH:,} items, got {len(items):,}")
    rejected: dict[int, tuple[str, ...]] = {}
    ids = _ids(items, rejected if keep_going else None)
    existing = entity_store.rows_by_ids(tx.conn, tenant_id=tx.tenant_id, kind=kind, ids=ids)
    valid = [(n, i) for n, i in enumerate(items) if n not in rejected]
    docs, encoder = _documents(tx, tx.state.schemas[kind], valid, existing, rejected)
    if rejected and not keep_going:
        _refuse(rejected, batch=len(items) > 1)
    order_values.fill(tx, kind, docs, existing)
    stored = _apply(tx, kind, docs, existing, encoder, cause=cause) if docs else []
    return Written(stored, rejected)


def _apply(
    tx: Transaction,
    kind: Kind,
    docs: list[Document],
    existing: dict[str, EntityRow],
    encoder: Encoder,
    *,
    cause: Cause,
) -> list[Document]:
    stored = entity_rows.store(tx, kind, docs, existing, encoder)
    before = {r.seq: r.record for r in existing.values()}
    table, match = tx.state.tables[kind], matcher_for(tx, kind)
    records: list[tuple[int, Mapping[str, Any]]] = list(
        zip(stored.seqs, stored.records, strict=True)
    )
    crossing = behaviour.watch(tx, kind, stored.seqs)
    tx.state.mutations += 1  # the snapshot changes: undone by a reload if the write fails
    befores: list[Mapping[str, Any] | None] = (
        [before.get(seq) for seq in stored.seqs] if before else [None] * len(records)
    )
    table.put_many(stored.seqs, stored.records, befores)
    if kind is Kind.PRODUCT:  # lines that named a new product by id now count it
        for seq, entity_id in zip(stored.seqs, stored.ids, strict=True):
            if seq not in before:
                tx.state.purchases.product_appeared(entity_id, seq)
    if len(records) == 1:
        seq, record = records[0]
        match.update(tx, seq, before.get(seq), record, cause)
    else:
        fresh = all(r is None for r in before.values())  # new, or written again after a delete
        seqs = np.array(stored.seqs, dtype=np.int64)
        match.update_many(tx, seqs, records, cause, fresh=fresh)
    crossing.settle(tx, [(seq, before.get(seq), record) for seq, record in records], cause)
    return stored.docs  # built for this write, shared with no one


def _ids(items: Sequence[Write], rejected: dict[int, tuple[str, ...]] | None) -> list[str]:
    """The items' checked ids; a bad id fails the batch, or only its item."""
    if _plain_ids(given := list(map(ID, items))):
        return given
    ids: list[str] = []
    for number, item in enumerate(items):
        try:
            ids.append(check_id(item.id))
        except ValidationError as exc:
            if rejected is None:
                where = f"item {number}: " if len(items) > 1 else ""
                raise ValidationError(f"{where}{exc.message}", field="id") from None
            rejected[number] = (exc.message,)
    return ids


ID = attrgetter("id")


def _plain_ids(ids: list[Any]) -> bool:
    """Whether every id passes ``check_id``, asked of the whole batch at once with no
    Python step per id; ``False`` leaves each to ``check_id``, which says what is wrong."""
    return not ids or (
        set(map(type, ids)) == {str}
        and all(ids)
        and max(map(len, ids)) <= MAX_ID_LENGTH
        and CONTROL_OR_SURROGATE.search("".join(ids)) is None
        and ids == list(map(str.strip, ids))
    )


def _documents(
    tx: Transaction,
    schema: Schema,
    items: Sequence[tuple[int, Write]],
    existing: dict[str, EntityRow],
    rejected: dict[int, tuple[str, ...]],
) -> tuple[list[Document], Encoder]:
    """Validated documents, later items of one id building on earlier ones; the
    problems of the invalid items go into ``rejected``. Whole items are validated a
    column at a time; the encoder then knows the batch's encoded values."""
    replaced = [(n, i) for n, i in items if i.mode is Mode.REPLACE]
    outcomes, encoder = validate_many(
        schema, [(i.id, i.values) for _, i in replaced], tz=tx.state.tz, ids_checked=True
    )
    stamp = format_instant(tx.now)
    if len(replaced) == len(items) and _all_new_docs(outcomes, ids := [i.id for _, i in items]):
        docs = cast(list[Document], outcomes)
        stamp_and_derive(schema.kind, docs, _created(ids, existing), stamp)
        return docs, encoder
    checked = {n: outcome for (n, _), outcome in zip(replaced, outcomes, strict=True)}
    docs = []
    latest: dict[str, Document | None] = {i: r.doc for i, r in existing.items()}
    kind = schema.kind
    for number, item in items:
        before, found = latest.get(item.id), checked.get(number)
        if type(found) is not dict:  # not a whole item validated already
            try:
                found = _document(tx, schema, item, before, checked=found)
            except ValidationError as exc:
                rejected[number] = exc.problems
                continue
        doc = found
        if "created_at" not in doc:
            doc["created_at"] = (before or {}).get("created_at") or stamp
        doc["updated_at"] = stamp
        derive(kind, doc)
        latest[item.id] = doc
        docs.append(doc)
    return docs, encoder


def _all_new_docs(outcomes: list[Any], ids: list[str]) -> bool:
    """Whether every item was validated whole, and no two share an id (none builds on
    another): the batch's documents are then stamped and derived a column at a time."""
    return set(map(type, outcomes)) == {dict} and len(set(ids)) == len(ids)


def _created(ids: list[str], existing: dict[str, EntityRow]) -> dict[int, Any]:
    """The creation stamp each item written again keeps, by item number."""
    if not existing:
        return {}
    where = dict(zip(ids, range(len(ids)), strict=True))
    kept = {}
    for entity_id in existing.keys() & where.keys():
        before = existing[entity_id].doc
        if before and before.get("created_at"):
            kept[where[entity_id]] = before["created_at"]
    return kept


def _refuse(rejected: dict[int, tuple[str, ...]], *, batch: bool) -> None:
    problems = [
        (f"item {number}: " if batch else "") + problem
        for number, found in sorted(rejected.items())
        for problem in found
    ]
    reported = problems[:MAX_REPORTED]
    more = f" (and {len(problems) - len(reported)} more)" if len(problems) > len(reported) else ""
    raise ValidationError(f"{reported[0]}{more}", problems=reported)


def _document(
    tx: Transaction,
    schema: Schema,
    item: Write,
    before: Document | None,
    *,
    checked: Document | ValidationError | None,
) -> Document:
    """An item's validated document before its stamps and derived values; ``checked``
    is its validation already done (a whole item)."""
    if isinstance(checked, ValidationError):
        raise checked
    if checked is not None:
        return checked
    if item.mode is Mode.PATCH:
        if before is None:
            raise NotFoundError(
                f"{schema.kind} {item.id!r} does not exist; PATCH needs an existing entity"
            )
        return _patched(tx, schema, item, before)
    return validate(schema, item.id, item.values, tz=tx.state.tz)


def _patched(tx: Transaction, schema: Schema, item: Write, before: Document) -> Document:
    """A JSON merge patch: ``null`` removes an attribute, other values replace it."""
    additions = {k: v for k, v in item.values.items() if v is not None}
    checked = validate(schema, item.id, additions, tz=tx.state.tz)
    removals = [k for k, v in item.values.items() if v is None and k != "id"]
    validate(schema, item.id, dict.fromkeys(removals), tz=tx.state.tz)  # unknown keys, derived ones
    doc = {k: v for k, v in before.items() if k not in DERIVED and k != "updated_at"}
    for key in removals:
        attribute = schema.get(key)
        doc.pop(attribute.key if attribute else key, None)
    doc.update(checked)
    return doc


def delete(tx: Transaction, kind: Kind, entity_id: str) -> None:
    """Delete an entity: it leaves every segment, fixed ones included."""
    segmented(kind)
    check_id(entity_id)
    row = entity_store.rows_by_ids(tx.conn, tenant_id=tx.tenant_id, kind=kind, ids=[entity_id])
    found = row.get(entity_id)
    if found is None or not found.alive:
        raise NotFoundError(f"{kind} {entity_id!r} does not exist")
    seq = found.seq
    crossing = behaviour.watch(tx, kind, [seq])
    tx.state.mutations += 1
    tx.state.tables[kind].put(seq, None, found.record)
    for segment in tx.state.of_kind(kind):
        tx.set_member(segment, seq, False, Cause.ENTITY_DELETED)
        if not segment.dynamic:
            member_store.remove_fixed(
                tx.conn, tenant_id=tx.tenant_id, seg_id=segment.seg_id, seqs=[seq]
            )
    crossing.settle(tx, [(seq, found.record, None)], Cause.ENTITY_DELETED)
    entity_store.update_rows(
        tx.conn,
        tenant_id=tx.tenant_id,
        kind=kind,
        rows=[
            {
                "seq": seq,
                "doc": None,
                "record": None,
                "created_at": found.created_at,
                "updated_at": tx.now_us,
                "revision": tx.revision,
            }
        ],
    )
