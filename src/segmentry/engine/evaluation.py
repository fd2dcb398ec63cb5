"""Evaluating one segment at a time: over everyone, or over the entities whose
membership of the segments it refers to changed.

Saving, editing or activating a segment (and previewing a rule) evaluates its rule
over the columnar snapshot with the columnar evaluator; the segments that refer to
it, of its kind or through behaviour conditions of the other, then re-check the
entities whose membership changed with their Python predicates
(``engine/behaviour.py``), as does the time sweep. An ad-hoc listing with a rule
takes its page from the columnar snapshot too; its SQL clause (``rule_clause``)
remains the oracle the differential tests compare listings with. Entity writes are
matched by the rule index instead (``engine/matcher.py``). Every evaluator reads
the tenant's orders (``TenantState.order_view``) for behaviour functions. The
differential property test of ``match`` proves the evaluators agree.
"""

from __future__ import annotations

import sqlalchemy as sa
from pyroaring import BitMap
from sqlalchemy.engine import Connection

from segmentry.engine.state import SegmentDef, TenantState
from segmentry.engine.transaction import Transaction
from segmentry.engine.types import Cause
from segmentry.match import eval_columnar as columnar
from segmentry.match.eval_python import Predicate, compile_predicate
from segmentry.match.eval_sql import compile_sql
from segmentry.match.sql_behaviour import OrderTables
from segmentry.model.schema import Kind
from segmentry.model.temporal import EvalContext
from segmentry.rules.ast import Node
from segmentry.store import entities as entity_store
from segmentry.store import members as member_store
from segmentry.store.tables import entities, order_lines, orders


def predicate(state: TenantState, segment: SegmentDef, ctx: EvalContext) -> Predicate:
    assert segment.tree is not None
    schema = state.schemas[segment.kind]
    return compile_predicate(segment.tree, schema, ctx, state.member_set, orders=state.order_view())


def rule_clause(
    conn: Connection, state: TenantState, kind: Kind, tree: Node, ctx: EvalContext
) -> sa.ColumnElement[bool]:
    """The SQL clause of a checked rule over the ``entities`` table (behaviour functions
    read the ``orders`` and ``order_lines`` tables)."""
    dialect = conn.dialect.name
    return compile_sql(
        tree,
        state.schemas[kind],
        ctx,
        doc=entities.c.record,
        seq=entities.c.seq,
        segment=lambda code, seq: entity_store.seq_in(state.member_set(code), dialect, seq),
        orders=OrderTables(
            orders, order_lines, entities, entities.c.tenant_id, entities.c.id, state.schemas
        ),
    )


def members_of_rule(state: TenantState, kind: Kind, tree: Node, ctx: EvalContext) -> BitMap:
    """Every living entity of ``kind`` the rule selects, evaluated on the columnar snapshot."""
    table = state.tables[kind]
    expr = columnar.compile_columnar(tree, table, ctx, state.member_set, orders=state.order_view())
    return columnar.select(table, expr)


def page_of_rule(
    state: TenantState, kind: Kind, tree: Node, ctx: EvalContext, *, after: int, limit: int
) -> list[int]:
    """The first ``limit`` seqs above ``after`` of the living entities the rule selects,
    evaluated on the columnar snapshot: a page of a listing."""
    table = state.tables[kind]
    expr = columnar.compile_columnar(tree, table, ctx, state.member_set, orders=state.order_view())
    return columnar.first_rows(table, expr, after, limit)


def reevaluate(tx: Transaction, segment: SegmentDef, cause: Cause) -> BitMap:
    """Bring one segment to what its definition says now; returns the seqs that changed."""
    if not segment.active:
        target = BitMap()
    elif segment.dynamic:
        assert segment.tree is not None
        target = members_of_rule(tx.state, segment.kind, segment.tree, tx.ctx)
    else:
        target = member_store.fixed_list(tx.conn, tenant_id=tx.tenant_id, seg_id=segment.seg_id)
    return tx.replace_members(segment, target, cause)
