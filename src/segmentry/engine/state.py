"""A tenant's state in memory: schemas, segment definitions and kept memberships.

Loaded from the database and tagged with the tenant's ``revision``; any
transaction that finds another revision in the database reloads it first, so
several processes can share one database. Write transactions mutate the state
as they go and ``Segmentry`` discards it if the transaction does not commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pyroaring import BitMap
from sqlalchemy.engine import Connection

from segmentry.engine import purchasing
from segmentry.engine.prefetch import ahead
from segmentry.engine.types import SegmentType, Status
from segmentry.match.columnar import ColumnarTable
from segmentry.match.columnar_load import put_chunks
from segmentry.match.index_parts import moves_with_time
from segmentry.match.order_view import OrderView
from segmentry.match.purchases import Purchases
from segmentry.model.schema import Kind, Schema
from segmentry.model.temporal import EvalContext, to_micros
from segmentry.rules.ast import (
    Condition,
    Node,
    behaviours,
    conditions,
    cross_refs,
    segment_refs,
)
from segmentry.rules.check import SegmentInfo, check
from segmentry.rules.jsonform import from_json
from segmentry.rules.parser import parse
from segmentry.rules.printer import format_rule
from segmentry.store import attributes as attribute_store
from segmentry.store import entities as entity_store
from segmentry.store import members as member_store
from segmentry.store import orders as order_store
from segmentry.store import segments as segment_store
from segmentry.store.segments import SegmentRow
from segmentry.store.tenants import TenantRow

if TYPE_CHECKING:
    from segmentry.engine.behaviour import Plan
    from segmentry.engine.evaluation import Predicates
    from segmentry.engine.matcher import Matcher


@dataclass(slots=True)
class SegmentDef:
    """A segment as the engine works with it: its row and its checked rule."""

    row: SegmentRow
    tree: Node | None
    _named: tuple[Node | None, tuple[str, ...], tuple[str, ...]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    """The codes the rule names (:attr:`refs`, :attr:`cross_refs`), found once per tree:
    a write after segments change sorts and splits them all, each asking for both."""

    @property
    def seg_id(self) -> int:
        return self.row.seg_id

    @property
    def code(self) -> str:
        return self.row.code

    @property
    def kind(self) -> Kind:
        return Kind(self.row.kind)

    @property
    def dynamic(self) -> bool:
        return self.row.type == SegmentType.DYNAMIC

    @property
    def active(self) -> bool:
        return self.row.status == Status.ACTIVE

    @property
    def refs(self) -> tuple[str, ...]:
        """The codes ``IN SEGMENT`` names in the rule: segments of this one's kind."""
        return self._names()[1]

    @property
    def cross_refs(self) -> tuple[str, ...]:
        """The codes named inside the rule's behaviour conditions: segments of the kind
        a condition is over (products for ``purchased``, customers for ``units_sold``);
        they settle before it."""
        return self._names()[2]

    def _names(self) -> tuple[Node | None, tuple[str, ...], tuple[str, ...]]:
        named, tree = self._named, self.tree
        if named is None or named[0] is not tree:
            refs = tuple(dict.fromkeys(r.code for r in segment_refs(tree))) if tree else ()
            cross = tuple(dict.fromkeys(r.code for r in cross_refs(tree))) if tree else ()
            named = self._named = (tree, refs, cross)
        return named

    @property
    def behavioural(self) -> bool:
        """Whether its rule counts orders (a behaviour function)."""
        return self.tree is not None and bool(behaviours(self.tree))

    @property
    def info(self) -> SegmentInfo:
        """What the checker knows of this segment."""
        return SegmentInfo(self.kind, self.refs, self.cross_refs)

    @property
    def time_conditions(self) -> list[Condition]:
        """Conditions whose truth moves with the clock (relative times, today, ...)."""
        if self.tree is None:
            return []
        return [c for c in conditions(self.tree) if moves_with_time(c)]


@dataclass(frozen=True, slots=True)
class View:
    """What a read needs: a connection, the tenant's state and the moment of evaluation."""

    conn: Connection
    state: TenantState
    ctx: EvalContext

    @property
    def now_us(self) -> int:
        return to_micros(self.ctx.now)


class TenantState:
    """What the engine keeps of one tenant between calls: its schemas, segments (with
    checked rules and dependency order), the kept members of each segment, a columnar
    snapshot of every living entity, its orders (``purchases``) and the compiled
    matchers, all as of ``revision``. Write transactions change it in place under the
    tenant's lock."""

    def __init__(self, tenant: TenantRow, schemas: dict[Kind, Schema]) -> None:
        self.tenant_id = tenant.tenant_id
        self.revision = tenant.revision
        self.logged = tenant.counters["member_log_rows"]
        """Rows of the member log as of ``revision`` (a member check with none pending
        reads the chunk alone)."""
        self.tz = ZoneInfo(tenant.time_zone)
        self.schemas = schemas
        self.segments: dict[int, SegmentDef] = {}
        self.members: dict[int, BitMap] = {}
        self._codes: dict[str, int] = {}
        self._order: list[SegmentDef] | None = None
        self._catalog: dict[str, SegmentInfo] | None = None
        self.mutations = 0
        """Counts changes made in memory: a transaction that fails after changing the
        state must not leave it cached. Counted before each change is made."""
        self.memberships = 0
        """Counts the ``mutations`` that changed only memberships: what is left changed
        orders, records or definitions (behaviour values without ``IN SEGMENT`` in their
        conditions are kept while it stays, ``engine/evaluation.py``)."""
        self.committed = 0
        """``mutations`` when this state last matched the database (loaded, or a write of
        this process committed): while the two are equal, no write is half-way through
        the state, and a read may answer from it without the tenant's lock."""
        self.definitions = 0
        """Counts changes of segments and schemas: compiled matchers older than this
        are rebuilt."""
        self.tables = {kind: ColumnarTable(schemas[kind]) for kind in Kind}
        """The columnar snapshot of every living entity, a row per seq."""
        self.seqs: dict[Kind, dict[str, int]] = {kind: {} for kind in Kind}
        """Seqs of ids the member check looked up, kept: an id keeps its seq for good."""
        self.matchers: dict[Kind, tuple[int, Matcher]] = {}
        """Each kind's compiled matcher, with the ``definitions`` it was built at."""
        self.behaviour_plan: tuple[int, Plan] | None = None
        """How the real-time pass walks the segments (``engine/behaviour.py``), with the
        ``definitions`` it was built at."""
        self.predicates: Predicates | None = None
        """The segments' compiled Python predicates (``engine/evaluation.py``), made
        when first needed."""
        self.purchases = Purchases(schemas[Kind.ORDER])
        """The tenant's orders and lines, what behaviour functions count; changed in
        place by order writes (after ``mutations`` is counted, like the rest)."""

    def order_view(self) -> OrderView:
        """What behaviour functions read besides the entity: the orders and the current
        customers and products."""
        return OrderView(self.purchases, self.tables)

    # -- segments ------------------------------------------------------------------

    def by_code(self, code: str) -> SegmentDef | None:
        seg_id = self._codes.get(code)
        return self.segments[seg_id] if seg_id is not None else None

    def put(self, segment: SegmentDef) -> None:
        """Add or replace a segment (after a rename too)."""
        self.mutations += 1
        self.definitions += 1
        old = self.segments.get(segment.seg_id)
        if old is not None:
            self._codes.pop(old.code, None)
        self.segments[segment.seg_id] = segment
        self._codes[segment.code] = segment.seg_id
        self.members.setdefault(segment.seg_id, BitMap())
        self._order = None
        if self._catalog is not None:  # kept up to date: one entry changes
            if old is not None:
                self._catalog.pop(old.code, None)
            self._catalog[segment.code] = segment.info

    def reordered(self) -> None:
        """Forget the cached dependency order and catalog (after trees were attached)."""
        self._order = None
        self._catalog = None

    def set_schema(self, kind: Kind, schema: Schema) -> None:
        self.mutations += 1
        self.definitions += 1
        self.schemas[kind] = schema
        self.tables[kind] = self.tables[kind].with_schema(schema)
        if kind is Kind.ORDER:
            self.purchases.orders.with_schema(schema)

    def drop(self, seg_id: int) -> None:
        self.mutations += 1
        self.definitions += 1
        old = self.segments.pop(seg_id, None)
        if old is not None:
            self._codes.pop(old.code, None)
            if self._catalog is not None:
                self._catalog.pop(old.code, None)
        self.members.pop(seg_id, None)
        self._order = None

    def catalog(self) -> Mapping[str, SegmentInfo]:
        """Every segment's kind and references, for checking rules. Built once and kept
        up to date as segments change: a tenant with thousands of segments checks each
        new rule against them all, and walking every tree for each check made creating
        segments quadratic."""
        if self._catalog is None:
            self._catalog = {s.code: s.info for s in self.segments.values()}
        return self._catalog

    def of_kind(self, kind: Kind) -> list[SegmentDef]:
        return [s for s in self.segments.values() if s.kind is kind]

    def evaluated(self, kind: Kind) -> list[SegmentDef]:
        """Active dynamic segments of a kind, each after every segment it refers to."""
        return [s for s in self.in_dependency_order() if s.kind is kind and s.dynamic and s.active]

    def in_dependency_order(self) -> list[SegmentDef]:
        if self._order is None:
            self._order = self._sort()
        return self._order

    def _sort(self) -> list[SegmentDef]:
        """Every segment after those it refers to, of its kind or, through behaviour
        conditions, of the other (the checker refuses loops, across kinds too)."""
        order: list[SegmentDef] = []
        placed: set[int] = set()
        pending = sorted(self.segments.values(), key=lambda s: s.seg_id)
        while pending:
            ready = [
                s for s in pending if all(self._placed(r, placed) for r in s.refs + s.cross_refs)
            ]
            if not ready:  # pragma: no cover - the checker refuses cycles
                raise RuntimeError("segment references form a cycle")
            order.extend(ready)
            placed.update(s.seg_id for s in ready)
            pending = [s for s in pending if s.seg_id not in placed]
        return order

    def _placed(self, code: str, placed: set[int]) -> bool:
        ref = self.by_code(code)
        return ref is None or ref.seg_id in placed

    def dependents(self, seg_ids: Iterable[int]) -> list[SegmentDef]:
        """Active dynamic segments that refer, directly or not, to any of these, in order."""
        affected = {self.segments[s].code for s in seg_ids if s in self.segments}
        out: list[SegmentDef] = []
        for segment in self.in_dependency_order():
            if affected.intersection(segment.refs):
                affected.add(segment.code)
                if segment.dynamic and segment.active:
                    out.append(segment)
        return out

    def referrers(self, code: str) -> list[SegmentDef]:
        return [s for s in self.segments.values() if code in s.refs or code in s.cross_refs]

    def member_set(self, code: str) -> BitMap:
        """For ``IN SEGMENT``: the kept members of a code (empty if unknown or inactive)."""
        segment = self.by_code(code)
        return self.members.get(segment.seg_id, BitMap()) if segment else BitMap()


def load(conn: Connection, tenant: TenantRow) -> TenantState:
    tenant_id = tenant.tenant_id
    has_orders = order_store.orders_since(conn, tenant_id=tenant_id) is not None
    schemas = {
        kind: Schema(
            kind,
            tuple(attribute_store.list_custom(conn, tenant_id=tenant_id, kind=kind)),
            orders_derived=has_orders and kind is Kind.CUSTOMER,
        )
        for kind in Kind
    }
    state = TenantState(tenant, schemas)
    rows = segment_store.all_rows(conn, tenant_id=tenant.tenant_id)
    for row in rows:
        state.put(SegmentDef(row, None))
    catalog = state.catalog()
    for row in rows:
        if row.rule is not None:
            state.segments[row.seg_id].tree = checked_tree(row, schemas, catalog)
    state.reordered()
    state.members.update(member_store.load_members(conn, tenant_id=tenant.tenant_id))
    for kind, table in state.tables.items():
        last = entity_store.max_seq(conn, tenant_id=tenant_id, kind=kind)
        table.reserve(last + 1)
        chunks = entity_store.records(conn, tenant_id=tenant_id, kind=kind, up_to=last)
        with ahead(chunks) as read:
            put_chunks(table, read, entity_store.SEQ_KEY)
    state.purchases = purchasing.load(conn, tenant_id=tenant_id, schema=schemas[Kind.ORDER])
    state.committed = state.mutations
    return state


def checked_tree(
    row: SegmentRow, schemas: Mapping[Kind, Schema], catalog: Mapping[str, SegmentInfo]
) -> Node:
    """The normalised tree of a stored rule (stored rules always check)."""
    assert row.rule is not None
    tree = parse(format_rule(from_json(row.rule)))
    schema = schemas[Kind(row.kind)]
    return check(tree, schema, segments=catalog, own_code=row.code, schemas=schemas)
