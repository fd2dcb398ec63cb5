"""Storing the rows of a batch of validated documents: a seq for each new id, the
evaluation record of each document, and the rows inserted or rewritten.

A batch of new entities (an import's) is kept as columns, not a dict per row: its
seqs are consecutive, and its rows go to the store as columns, so no Python step
runs per row beyond encoding its record.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, NamedTuple

from segmentry.engine.transaction import Transaction
from segmentry.model.batch_encoder import Encoder
from segmentry.model.schema import Kind
from segmentry.model.values import Document, Record
from segmentry.store import entities as entity_store
from segmentry.store.entities import EntityRow
from segmentry.store.tenants import seq_counter


class Stored(NamedTuple):
    """The rows a write stored, one per written seq, in write order (an id written twice
    in one batch keeps its first place and its last document)."""

    seqs: list[int]
    ids: list[str]
    docs: list[Document]
    records: list[Record]


ID = itemgetter("id")


def store(
    tx: Transaction,
    kind: Kind,
    docs: list[Document],
    existing: dict[str, EntityRow],
    encoder: Encoder,
) -> Stored:
    """Insert or update the rows of ``docs``; ``existing``: the stored rows of their ids."""
    records = list(map(encoder.record, docs))
    ids = list(map(ID, docs))
    if not existing and len(set(ids)) == len(ids):  # new entities, as an import's
        first = tx.take(seq_counter(kind), len(ids))
        seqs = list(range(first, first + len(ids)))
        entity_store.insert_new(
            tx.conn,
            tenant_id=tx.tenant_id,
            kind=kind,
            rows=entity_store.NewRows(seqs, ids, docs, records, tx.now_us, tx.revision),
        )
        tx.inserted_entities += len(ids)
        return Stored(seqs, ids, docs, records)
    return _store_rows(tx, kind, docs, records, existing)


def _store_rows(
    tx: Transaction,
    kind: Kind,
    docs: list[Document],
    records: list[Record],
    existing: dict[str, EntityRow],
) -> Stored:
    """:func:`store` a row at a time: ids written again, or more than once."""
    seqs: dict[str, int] = {i: r.seq for i, r in existing.items()}
    new_ids = {doc["id"] for doc in docs if doc["id"] not in seqs}
    next_seq = tx.take(seq_counter(kind), len(new_ids)) if new_ids else 0
    rows: dict[int, dict[str, Any]] = {}
    now, revision = tx.now_us, tx.revision
    for doc, record in zip(docs, records, strict=True):
        entity_id = doc["id"]
        seq = seqs.get(entity_id)
        if seq is None:
            seq = seqs[entity_id] = next_seq
            next_seq += 1
        rows[seq] = {
            "seq": seq,
            "id": entity_id,
            "doc": doc,
            "record": record,
            "created_at": now,
            "updated_at": now,
            "revision": revision,
        }
    old = {r.seq for r in existing.values()}
    for seq, row in rows.items():
        if seq in old:
            row["created_at"] = existing[row["id"]].created_at
    inserted = [r for s, r in rows.items() if s not in old]
    updated = [r for s, r in rows.items() if s in old]
    entity_store.insert_rows(tx.conn, tenant_id=tx.tenant_id, kind=kind, rows=inserted)
    tx.inserted_entities += len(inserted)
    entity_store.update_rows(tx.conn, tenant_id=tx.tenant_id, kind=kind, rows=updated)
    values = list(rows.values())
    return Stored(
        list(rows),
        [r["id"] for r in values],
        [r["doc"] for r in values],
        [r["record"] for r in values],
    )
