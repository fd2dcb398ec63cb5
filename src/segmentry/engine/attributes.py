"""Custom attributes: declare, and delete (refused while a rule uses them)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from segmentry.engine.transaction import Transaction
from segmentry.errors import AlreadyExistsError, InUseError, NotFoundError, SchemaError
from segmentry.match.sql_dialects import JsonHas
from segmentry.model.schema import Attribute, AttrType, Kind, declare
from segmentry.model.values import encode
from segmentry.rules.ast import attributes_of, behaviours, conditions
from segmentry.rules.operators import BY_ACT
from segmentry.store import attributes as attribute_store
from segmentry.store import entities as entity_store
from segmentry.store import orders as order_store
from segmentry.store.tables import entities


def add(
    tx: Transaction,
    kind: Kind,
    key: str,
    type_: AttrType | str,
    *,
    label: str = "",
    values: Iterable[str] = (),
) -> Attribute:
    schema = tx.state.schemas[kind]
    if schema.get(key) is not None and any(a.key == key for a in schema.custom):
        raise AlreadyExistsError(f"{kind} attribute {key!r} is already declared")
    attribute = declare(kind, key, type_, label, values)
    attribute_store.insert(
        tx.conn, tenant_id=tx.tenant_id, kind=kind, attribute=attribute, now=tx.now_us
    )
    tx.state.set_schema(kind, schema.with_custom(attribute))
    return attribute


def remove(tx: Transaction, kind: Kind, key: str) -> None:
    schema = tx.state.schemas[kind]
    attribute = schema.by_key.get(key)
    if attribute is None:
        raise NotFoundError(f"no {kind} attribute {key!r}")
    if attribute.builtin:
        raise SchemaError(f"{key} is a built-in {kind} attribute and cannot be deleted")
    users = _users(tx, kind, key)
    if users:
        raise InUseError(
            f"{kind} attribute {key!r} is used by the rules of " + ", ".join(users),
            users=[{"segment": code} for code in users],
        )
    attribute_store.delete(tx.conn, tenant_id=tx.tenant_id, kind=kind, key=key)
    tx.state.set_schema(kind, schema.without(key))
    if kind is Kind.ORDER:
        order_store.strip_attribute(tx.conn, tenant_id=tx.tenant_id, key=key, now=tx.now_us)
    else:
        _strip(tx, kind, key)


def _users(tx: Transaction, kind: Kind, key: str) -> list[str]:
    """The segments whose rules read ``key`` of ``kind``: in their own conditions, or in
    the conditions of their behaviour functions over that kind (orders, products bought,
    buyers)."""
    out = []
    for segment in tx.state.segments.values():
        if segment.tree is None:
            continue
        read = conditions(segment.tree) if segment.kind is kind else []
        for function in behaviours(segment.tree):
            if function.where is not None and BY_ACT[function.act].condition_kind == kind:
                read += conditions(function.where)
        if any(key in attributes_of(c) for c in read):
            out.append(segment.code)
    return out


def _strip(tx: Transaction, kind: Kind, key: str) -> None:
    """Remove the attribute's values from every entity, so a later declaration of the
    same key starts clean. No membership changes: no rule uses the attribute."""
    schema = tx.state.schemas[kind]
    holding = JsonHas(entities.c.doc, sa.literal(key, sa.Text))
    rows = []
    for row in entity_store.scan(tx.conn, tenant_id=tx.tenant_id, kind=kind, where=holding):
        assert row.doc is not None
        doc = {k: v for k, v in row.doc.items() if k != key}
        rows.append(
            {
                "seq": row.seq,
                "doc": doc,
                "record": encode(schema, doc),
                "created_at": row.created_at,
                "updated_at": row.updated_at,
                "revision": tx.revision,
            }
        )
    entity_store.update_rows(tx.conn, tenant_id=tx.tenant_id, kind=kind, rows=rows)
