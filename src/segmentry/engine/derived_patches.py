"""Order-derived values of many customers or products brought up to date by patches.

What ``order_values.refresh`` does for a batch of orders, without reading the
entities' rows back: the seqs come from the tenant's remembered ids, the old
derived values from its in-memory table, and the database sets the new values
into the stored document and record itself (``store.entity_patches``). The
other keys of an entity are not touched, so its record is only the derived
keys here; this is for kinds with no nested segments (their predicates read
whole records), and the caller keeps the read-back way for those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from segmentry.engine import behaviour
from segmentry.engine.matcher import matcher_for
from segmentry.engine.transaction import Transaction
from segmentry.engine.types import Cause
from segmentry.model.schema import Kind
from segmentry.model.values import Document, encode
from segmentry.store import entities as entity_store
from segmentry.store.entity_patches import Patch, patch_rows

KEPT_SEQS = 100_000
"""Ids whose seq a tenant's state keeps per kind (``engine/reads.py`` keeps as many)."""


def seqs_of(tx: Transaction, kind: Kind, ids: Iterable[Any]) -> dict[str, int]:
    """The seqs of ids (an id keeps its seq for good, so they are remembered)."""
    known = tx.state.seqs[kind]
    wanted = [i for i in ids if i not in known]
    if wanted:
        found = entity_store.seqs_by_ids(tx.conn, tenant_id=tx.tenant_id, kind=kind, ids=wanted)
        if len(known) + len(found) > KEPT_SEQS:
            known.clear()  # as the member check does: forget them all at once
        known.update(found)
    return {i: known[i] for i in ids if i in known}


def refresh(
    tx: Transaction,
    kind: Kind,
    keys: tuple[str, ...],
    moved: Mapping[str, Any],
    values_of: Callable[[Any], Document],
) -> int:
    """Set the derived ``keys`` of the living entities whose sums ``moved`` (by id) to
    ``values_of`` their sums, re-checking the segments of those whose values changed;
    returns how many changed. Entities that do not exist are left alone."""
    table, schema = tx.state.tables[kind], tx.state.schemas[kind]
    found = sorted(seqs_of(tx, kind, moved).items(), key=lambda item: item[1])
    living = [(i, seq) for i, seq in found if seq < table.size and table.alive[seq]]
    before = table.records([seq for _, seq in living], keys)
    patches: list[Patch] = []
    olds: list[dict[str, Any]] = []
    for (entity_id, seq), old in zip(living, before, strict=True):
        values = values_of(moved[entity_id])
        record = encode(schema, values)
        if old != record:  # the stored spellings are canonical: equal records, equal values
            patches.append(Patch(seq, values, record, tuple(k for k in keys if k not in values)))
            olds.append(old)
    if patches:
        _store(tx, kind, keys, patches, olds)
    return len(patches)


def _store(
    tx: Transaction,
    kind: Kind,
    keys: tuple[str, ...],
    patches: list[Patch],
    olds: list[dict[str, Any]],
) -> None:
    patch_rows(
        tx.conn,
        tenant_id=tx.tenant_id,
        kind=kind,
        patches=patches,
        updated_at=tx.now_us,
        revision=tx.revision,
    )
    seqs = [p.seq for p in patches]
    crossing = behaviour.watch(tx, kind, seqs)
    tx.state.mutations += 1
    rows = np.array(seqs, dtype=np.int64)
    tx.state.tables[kind].set_keys(rows, [p.record for p in patches], keys)
    records: list[tuple[int, Mapping[str, Any]]] = [(p.seq, p.record) for p in patches]
    # The segments with behaviour functions are left to behaviour.orders_changed, which
    # re-checks these same entities (an order's customer and products) in every one of
    # them after both kinds' values are set: evaluating them here too did the work twice.
    match = matcher_for(tx, kind)
    match.update_many(tx, rows, records, Cause.ORDER_CHANGED, behaviour=False)
    changes = [(p.seq, old, p.record) for p, old in zip(patches, olds, strict=True)]
    crossing.settle(tx, changes, Cause.ORDER_CHANGED)
