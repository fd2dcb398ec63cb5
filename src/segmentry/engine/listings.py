"""Listings: the entities of a kind in seq order, optionally those an ad-hoc rule selects.

A listing with a rule is answered from the columnar snapshot with the columnar
evaluator, as a preview is: the rule runs over the columns, the first page of
living rows above the cursor is taken, and only that page's documents are read
from the database, by seq. The cursor is the last seq handed out, so a page
never repeats or skips an entity that stayed put when others are written
between pages. ``list_entities_sql`` answers the same page with the rule as a
SQL clause over the stored records, paged by the database: the oracle the
differential test compares with (see ``docs/architecture.md``).
"""

from __future__ import annotations

from segmentry.engine import evaluation
from segmentry.engine.reads import cursor_value, entity_of, page_size
from segmentry.engine.state import View
from segmentry.engine.types import Entity, Page
from segmentry.model.schema import Kind
from segmentry.rules.ast import Node
from segmentry.rules.load import RuleSource, prepare
from segmentry.store import entities as entity_store


def list_entities(
    view: View, kind: Kind, rule: RuleSource | None, limit: int, cursor: str | None
) -> Page[Entity]:
    """Entities in seq order (the order ids were first written); with ``rule``, only
    those it selects, found on the columnar snapshot."""
    if rule is None:
        return list_entities_sql(view, kind, None, limit, cursor)
    tree = _checked(view, kind, rule)
    after, size = cursor_value(cursor), page_size(limit)
    seqs = evaluation.page_of_rule(view.state, kind, tree, view.ctx, after=after, limit=size + 1)
    more = len(seqs) > size
    seqs = seqs[:size]
    found = entity_store.docs_by_seqs(
        view.conn, tenant_id=view.state.tenant_id, kind=kind, seqs=seqs
    )
    # The snapshot and the rows are read at one revision under the tenant's lock, so
    # every seq the snapshot holds alive has its document; none is dropped.
    items = [
        entity_of(view.state, kind, found[seq][0], doc)
        for seq in seqs
        if (doc := found[seq][1]) is not None
    ]
    return Page(items, str(seqs[-1]) if more else None)


def list_entities_sql(
    view: View, kind: Kind, rule: RuleSource | None, limit: int, cursor: str | None
) -> Page[Entity]:
    """The same page as :func:`list_entities`, the rule compiled to a SQL clause over
    the stored records and the page cut by the database. Without a rule this is the
    listing itself (an index range on seq); with one, the differential oracle."""
    where = None
    if rule is not None:
        tree = _checked(view, kind, rule)
        where = evaluation.rule_clause(view.conn, view.state, kind, tree, view.ctx)
    rows = list(
        entity_store.scan(
            view.conn,
            tenant_id=view.state.tenant_id,
            kind=kind,
            where=where,
            after_seq=cursor_value(cursor),
            limit=page_size(limit) + 1,
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    items = [entity_of(view.state, kind, r.id, r.doc or {}) for r in rows]
    return Page(items, str(rows[-1].seq) if more else None)


def _checked(view: View, kind: Kind, rule: RuleSource) -> Node:
    state = view.state
    return prepare(rule, state.schemas[kind], segments=state.catalog(), schemas=state.schemas).tree
