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
from segmentry.match.behaviour import bounds
from segmentry.match.eval_python import Predicate, Terms, Windows, compile_predicate
from segmentry.match.eval_sql import compile_sql
from segmentry.match.index_parts import moves_with_time
from segmentry.match.order_view import OrderView
from segmentry.match.sql_behaviour import OrderTables
from segmentry.model.schema import Kind
from segmentry.model.temporal import EvalContext
from segmentry.rules.ast import Behaviour, Node, behaviours, conditions
from segmentry.store import entities as entity_store
from segmentry.store import members as member_store
from segmentry.store.tables import entities, order_lines, orders


def predicate(state: TenantState, segment: SegmentDef, ctx: EvalContext) -> Predicate:
    """A segment's Python predicate at ``ctx``, compiled once while definitions hold
    (see :class:`Predicates`). Use it before asking for another moment's."""
    return predicates(state).of(state, segment, ctx)


def predicates(state: TenantState) -> Predicates:
    if state.predicates is None:
        state.predicates = Predicates()
    return state.predicates


class Predicates:
    """The compiled Python predicates of a tenant's segments, kept between writes.

    Compiling a rule with behaviour functions is most of a re-check's cost, and an
    order re-checks its customer and products in every segment that counts orders.
    A rule whose only relative times are behaviour windows is compiled once per
    change of definitions (which also marks new tables, segments and schemas): its
    windows are read at evaluation from :meth:`windows`, each distinct window
    computed once per moment. A rule with another relative time (a condition such
    as ``last_order_at > -90d``, inside a function's condition too) fixes it when
    compiled, so it is compiled once per moment. Member sets and the orders are read
    through objects the state changes in place. Equal behaviour functions of different
    segments share their value for an entity until the state changes
    (``TenantState.mutations``, counted before every change of orders, records and
    memberships; a value whose condition names no segment ignores membership
    changes), so an order's customer is counted once per distinct function."""

    def __init__(self) -> None:
        self.definitions = -1
        self.moment: EvalContext | None = None
        self.kept: dict[int, Predicate] = {}
        self.at_moment: dict[int, Predicate] = {}
        self.fixed: dict[int, bool] = {}
        """Per segment: whether its rule has relative times outside behaviour windows."""
        self.bounds: dict[tuple[str | None, str | None], tuple[int, int]] = {}
        self.terms: Terms | None = None

    def shared(self, state: TenantState, ctx: EvalContext) -> tuple[Windows, Terms]:
        """The windows at ``ctx`` and the shared values, for evaluators of the same state
        other than these predicates (the rule index's pass over a few rows)."""
        self._at(state, ctx)
        assert self.terms is not None
        return self.windows, self.terms

    def of(self, state: TenantState, segment: SegmentDef, ctx: EvalContext) -> Predicate:
        self._at(state, ctx)
        seg_id = segment.seg_id
        fixed = self.fixed.get(seg_id)
        if fixed is None:
            fixed = self.fixed[seg_id] = _moves_with_time(segment)
        held = self.at_moment if fixed else self.kept
        found = held.get(seg_id)
        if found is None:
            assert segment.tree is not None
            found = held[seg_id] = compile_predicate(
                segment.tree,
                state.schemas[segment.kind],
                ctx,
                state.member_set,
                orders=state.order_view(),
                windows=self.windows,
                terms=None if fixed else self.terms,  # its functions hold this moment's bounds
            )
        return found

    def _at(self, state: TenantState, ctx: EvalContext) -> None:
        zone_moved = self.moment is not None and ctx.tz != self.moment.tz  # absolute dates
        if self.definitions != state.definitions or zone_moved:
            self.definitions = state.definitions
            self.terms = Terms(lambda members: _generation(state, members=members))
            self.kept.clear()
            self.fixed.clear()
            self.at_moment.clear()
        if ctx != self.moment:
            self.moment = ctx
            self.bounds.clear()
            self.at_moment.clear()

    def windows(self, node: Behaviour) -> tuple[int, int]:
        """A function's window at the moment last asked for."""
        key = (node.since, node.until)
        found = self.bounds.get(key)
        if found is None:
            assert self.moment is not None
            found = self.bounds[key] = bounds(node, self.moment)
        return found


def _generation(state: TenantState, *, members: bool) -> int:
    """Moves whenever the orders or records change, and with ``members`` memberships too."""
    return state.mutations if members else state.mutations - state.memberships


def _moves_with_time(segment: SegmentDef) -> bool:
    """Whether the rule has a relative time outside behaviour windows."""
    assert segment.tree is not None
    found = list(conditions(segment.tree))
    for function in behaviours(segment.tree):
        if function.where is not None:
            found += conditions(function.where)
    return any(moves_with_time(c) for c in found)


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


def members_of_rule(
    state: TenantState, kind: Kind, tree: Node, ctx: EvalContext, orders: OrderView | None = None
) -> BitMap:
    """Every living entity of ``kind`` the rule selects, evaluated on the columnar snapshot
    (with ``orders`` for its behaviour functions, by default the tenant's)."""
    table = state.tables[kind]
    orders = orders if orders is not None else state.order_view()
    expr = columnar.compile_columnar(tree, table, ctx, state.member_set, orders=orders)
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
