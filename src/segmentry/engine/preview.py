"""Preview and explain: what a rule would select, and why an entity is in or out.

Nothing here writes: previews evaluate inside a read transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from itertools import islice

from pyroaring import BitMap
from sqlalchemy.engine import Connection

from segmentry.engine import evaluation
from segmentry.engine.reads import page_size
from segmentry.engine.segments import get
from segmentry.engine.state import TenantState, View
from segmentry.engine.types import EditPreview, Explanation, Preview
from segmentry.errors import NotFoundError, ValidationError
from segmentry.match.explain import explain as explain_rule
from segmentry.model.schema import AttrType, Kind
from segmentry.model.values import check_id
from segmentry.rules.load import CheckedRule, RuleSource, prepare
from segmentry.store import entities as entity_store
from segmentry.store import orders as order_store


def _sample(
    conn: Connection, state: TenantState, kind: Kind, seqs: BitMap, limit: int
) -> list[str]:
    chosen = list(islice(seqs, limit))
    ids = entity_store.ids_by_seqs(conn, tenant_id=state.tenant_id, kind=kind, seqs=chosen)
    return [ids[s] for s in chosen]


def check_rule(view: View, kind: Kind, rule: RuleSource) -> CheckedRule:
    """A rule checked against the tenant's attributes and segments, in its canonical forms."""
    return prepare(
        rule, view.state.schemas[kind], segments=view.state.catalog(), schemas=view.state.schemas
    )


def preview(view: View, kind: Kind, rule: RuleSource, limit: int = 10) -> Preview:
    """How many entities an unsaved rule selects, and a sample of them."""
    conn, state, ctx = view.conn, view.state, view.ctx
    checked = prepare(rule, state.schemas[kind], segments=state.catalog(), schemas=state.schemas)
    selected = evaluation.members_of_rule(state, kind, checked.tree, ctx)
    return Preview(len(selected), _sample(conn, state, kind, selected, page_size(limit)))


def preview_edit(view: View, code: str, rule: RuleSource, limit: int = 10) -> EditPreview:
    """Who would enter and leave a saved segment if its rule became ``rule``.

    An active segment is compared with its kept members; an inactive one with
    what its current rule selects, since it has no members to compare with.
    """
    conn, state, ctx = view.conn, view.state, view.ctx
    segment = get(state, code)
    if not segment.dynamic:
        raise ValidationError(f"segment {code!r} is fixed: it has no rule to preview")
    assert segment.tree is not None
    checked = prepare(
        rule,
        state.schemas[segment.kind],
        segments=state.catalog(),
        own_code=code,
        schemas=state.schemas,
    )
    after = evaluation.members_of_rule(state, segment.kind, checked.tree, ctx)
    if segment.active:
        before = state.members.get(segment.seg_id, BitMap())
    else:
        before = evaluation.members_of_rule(state, segment.kind, segment.tree, ctx)
    entering, leaving = after - before, before - after
    size = page_size(limit)
    return EditPreview(
        count=len(after),
        entering=len(entering),
        leaving=len(leaving),
        sample_entering=_sample(conn, state, segment.kind, entering, size),
        sample_leaving=_sample(conn, state, segment.kind, leaving, size),
    )


def _order_ids(conn: Connection, tenant_id: int, seqs: Sequence[int]) -> list[str]:
    found = order_store.ids_by_seqs(conn, tenant_id=tenant_id, seqs=seqs)
    return [found[seq] for seq in seqs]


def explain(view: View, code: str, entity_id: str) -> Explanation:
    """One entity against one segment: kept membership, and the rule condition by condition."""
    conn, state, ctx = view.conn, view.state, view.ctx
    segment = get(state, code)
    check_id(entity_id)
    rows = entity_store.rows_by_ids(
        conn, tenant_id=state.tenant_id, kind=segment.kind, ids=[entity_id]
    )
    row = rows.get(entity_id)
    if row is None or row.record is None or row.doc is None:
        raise NotFoundError(f"{segment.kind} {entity_id!r} does not exist")
    member = row.seq in state.members.get(segment.seg_id, BitMap())
    if segment.tree is None:
        return Explanation(member, {"fixed": code, "result": member})
    tree = explain_rule(
        segment.tree,
        state.schemas[segment.kind],
        ctx,
        record=row.record,
        document=row.doc,
        entity_id=row.seq,
        members=state.member_set,
        orders=replace(state.order_view(), order_ids=partial(_order_ids, conn, state.tenant_id)),
    )
    if not segment.active:
        tree = {"inactive": code, "rule": tree, "result": False}
    return Explanation(member, tree)


SUGGESTED = (AttrType.STRING, AttrType.ENUM, AttrType.STRING_LIST)


def value_counts(view: View, kind: Kind, key: str, text: str, limit: int) -> list[tuple[str, int]]:
    """The values a text, enum or list attribute has in the shop that contain ``text``,
    with how many entities have each: suggestions while a rule's value is typed. Text
    is compared ignoring case, so values differing only in case are one, in lower case."""
    attribute = view.state.schemas[kind].get(key)
    if attribute is None or attribute.type not in SUGGESTED:
        raise ValidationError(
            f"{key!r} is not a text, enum or list attribute of {kind.plural}", field="attr"
        )
    found = view.state.tables[kind].value_counts(attribute.key, text, page_size(limit))
    # Columns keep text case-folded (the language compares it ignoring case): an enum's
    # values are shown as declared, other text as compared.
    named = attribute.folded_values if attribute.type is AttrType.ENUM else {}
    return [(named.get(value, value), count) for value, count in found]
