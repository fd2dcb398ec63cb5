"""The membership engine against a model, step by step (Hypothesis state machine).

Segments are created (nested ones included, and ones counting orders, whose
conditions may name segments of the other kind), edited, activated,
deactivated and deleted; entities are upserted, patched and deleted; orders
are written, patched (cancelled, moved, their lines changed) and deleted; the
clock moves and the sweeper runs. After every step the kept memberships must
equal a full re-evaluation done here, independently (the columnar evaluator
over every entity, with the orders the test wrote held in a ``Purchases`` of
its own, referred segments first), and replaying the event feed from the start
must reproduce them. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from pyroaring import BitMap

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentEdit, SegmentSpec, SegmentType, Status
from segmentry.errors import InUseError, RuleError
from segmentry.match.columnar import ColumnarTable
from segmentry.match.eval_columnar import compile_columnar, select
from segmentry.match.order_view import OrderView
from segmentry.match.purchases import NO_SEQ, PurchaseLine, Purchases
from segmentry.model.money import to_micros
from segmentry.model.schema import ORDER_DERIVED_KEYS, SEGMENTED_KINDS, Kind, Schema
from segmentry.model.temporal import EvalContext
from segmentry.model.values import encode
from segmentry.rules.ast import And, Behaviour, Condition, InSegment, Node, Not, Or, segment_refs
from segmentry.rules.ast import cross_refs as cross_refs_of
from segmentry.rules.check import SegmentInfo, check
from segmentry.rules.jsonform import to_json
from segmentry.rules.operators import BY_ACT, Act, Op
from segmentry.rules.parser import parse
from tests.conftest import IN_CI
from tests.engine.conftest import ManualClock
from tests.rules.strategies import (
    SCHEMAS,
    ZONES,
    conditions,
    entity_values,
    raw_values,
    typed_rules,
    writable,
)

IDS = [f"e{i}" for i in range(6)]
"""Customers' and products' ids; an id's position is its seq in the model's own tables."""
CODES = [f"s{i}" for i in range(5)]
ORDER_IDS = [f"o{i}" for i in range(4)]
ORDER_SCHEMA = Schema(Kind.ORDER)
ALL_SCHEMAS = {**SCHEMAS, Kind.ORDER: ORDER_SCHEMA}
APP_BUYERS = "orders_placed(channel = 'app', since: -20d) >= 1"
PRICES = ["1", "2.5", "10", "40"]
ORDER_DAYS = [-40, -25, -12, -8, -5, -1, 0, 1]
"""When orders are placed, in days from the clock: around the windows' ends."""
ORDER_KEYS = ["status", "placed_at", "lines", "customer_id", "channel"]
"""What an order patch changes (one or two of them: a change of channel alone moves no
customer's order values, only the functions that read it)."""
ORDER_CONDITIONS = [
    Condition("channel", Op.EQ, "app"),
    Condition("total", Op.GT, 20),
    Condition("placed_at", Op.GT, "-10d"),
    Not(Condition("channel", Op.EQ, "web")),
]
"""Conditions over an order (one moves with the clock)."""
SINCE = [None, "-30d", "-7d", "today", "2025-03-20"]
UNTIL = [None, None, "yesterday", "-3d"]
CUSTOMER_ACTS = [Act.ORDERS_PLACED, Act.AMOUNT_SPENT, Act.PURCHASED, Act.UNITS_PURCHASED]
PRODUCT_ACTS = [Act.UNITS_SOLD, Act.REVENUE]
STEPS = [
    timedelta(minutes=7),
    timedelta(hours=5),
    timedelta(days=1),
    timedelta(days=9),
    timedelta(days=35),
]


class Model:
    """What the test knows of the shop, kept without the engine's help."""

    def __init__(self) -> None:
        self.segments: dict[str, dict[str, Any]] = {}  # code -> kind, type, active, tree, fixed
        self.ids: dict[Kind, set[str]] = {kind: set() for kind in SEGMENTED_KINDS}
        self.orders_written = False
        self.orders: dict[str, dict[str, Any]] = {}  # id -> the order as written, total too

    def catalog(self) -> dict[str, SegmentInfo]:
        return {
            c: SegmentInfo(
                s["kind"],
                tuple(r.code for r in segment_refs(s["tree"])) if s["tree"] else (),
                tuple(r.code for r in cross_refs_of(s["tree"])) if s["tree"] else (),
            )
            for c, s in self.segments.items()
        }

    def referred(self, code: str) -> bool:
        return any(code in info.refs + info.cross for info in self.catalog().values())

    def order(self) -> list[str]:
        """Every segment after those it names, of its kind or through behaviour
        conditions of the other."""
        done: list[str] = []
        catalog = self.catalog()
        while len(done) < len(self.segments):
            for code, info in catalog.items():
                if code not in done and set(info.refs + info.cross) <= set(done):
                    done.append(code)
        return done


class MembershipMachine(RuleBasedStateMachine):
    segmentry: Segmentry
    clock: ManualClock
    unswept = False

    @initialize(data=st.data(), zone=st.sampled_from(ZONES))
    def open_shop(self, data: st.DataObject, zone: str) -> None:
        self.clock.now = self.clock.now.replace(year=2025, month=3, day=29)
        tenant = self.segmentry.create_tenant("machine", zone)
        self.shop: Shop = self.segmentry.shop(tenant.tenant_id)
        self.tz = ZoneInfo(zone)
        self.model = Model()
        for kind in SEGMENTED_KINDS:
            for attribute in SCHEMAS[kind].custom:
                self.shop.declare_attribute(
                    kind, attribute.key, attribute.type, values=attribute.values
                )
        for kind in SEGMENTED_KINDS:  # a populated shop, so that every step has members to move
            chosen = data.draw(st.sets(st.sampled_from(IDS), min_size=3))
            items = [{"id": i, **data.draw(entity_values(SCHEMAS[kind]))} for i in sorted(chosen)]
            self.shop.upsert_many(kind, items)
            self.model.ids[kind] |= chosen
        for order_id in data.draw(st.sets(st.sampled_from(ORDER_IDS))):  # some with orders
            self.put_order(data, order_id)
        if data.draw(st.booleans()):  # a function of what no customer value sums
            tree = check(parse(APP_BUYERS), SCHEMAS[Kind.CUSTOMER], schemas=ALL_SCHEMAS)
            self.shop.create_segment(SegmentSpec(kind=Kind.CUSTOMER, code=CODES[-1],
                                                 name="app", rule=APP_BUYERS))  # fmt: skip
            self.model.segments[CODES[-1]] = {
                "kind": Kind.CUSTOMER,
                "active": True,
                "tree": tree,
                "fixed": None,
            }
        for code in CODES[:2]:
            self.create_dynamic(
                data, data.draw(st.sampled_from(list(SEGMENTED_KINDS))), code, active=True
            )

    def has_segments(self) -> bool:
        return bool(getattr(self, "model", None) and self.model.segments)

    # -- entities --------------------------------------------------------------------

    @rule(
        data=st.data(), kind=st.sampled_from(list(SEGMENTED_KINDS)), entity_id=st.sampled_from(IDS)
    )
    def upsert(self, data: st.DataObject, kind: Kind, entity_id: str) -> None:
        values = data.draw(entity_values(SCHEMAS[kind]))
        self.shop.upsert(kind, entity_id, {k: v for k, v in values.items() if self.writable(k)})
        self.model.ids[kind].add(entity_id)

    def writable(self, key: str) -> bool:
        """From the first order on, a customer's order values are derived."""
        return not (self.model.orders_written and key in ORDER_DERIVED_KEYS)

    @rule(data=st.data(), kind=st.sampled_from(list(SEGMENTED_KINDS)))
    def patch(self, data: st.DataObject, kind: Kind) -> None:
        if not self.model.ids[kind]:
            return
        entity_id = data.draw(st.sampled_from(sorted(self.model.ids[kind])))
        keys = data.draw(
            st.lists(st.sampled_from(writable(SCHEMAS[kind])), max_size=3, unique=True)
        )
        keys = [a for a in keys if self.writable(a.key)]
        patch = {a.key: data.draw(st.one_of(st.none(), raw_values(a))) for a in keys}
        self.shop.patch(kind, entity_id, patch)

    @rule(data=st.data(), kind=st.sampled_from(list(SEGMENTED_KINDS)))
    def delete_entity(self, data: st.DataObject, kind: Kind) -> None:
        if not self.model.ids[kind]:
            return
        entity_id = data.draw(st.sampled_from(sorted(self.model.ids[kind])))
        self.shop.delete(kind, entity_id)
        self.model.ids[kind].discard(entity_id)
        for seg in self.model.segments.values():
            if seg["kind"] is kind and seg["fixed"] is not None:
                seg["fixed"].discard(entity_id)

    # -- segments ------------------------------------------------------------------------

    def _rule(self, data: st.DataObject, kind: Kind, code: str) -> Node | None:
        """A typed rule whose IN SEGMENT codes name existing segments; None if it does not check."""
        tree = data.draw(typed_rules(SCHEMAS[kind], segments=False))
        same_kind = [c for c, s in self.model.segments.items() if s["kind"] is kind and c != code]
        if same_kind and data.draw(st.booleans()):
            tree = And((tree, InSegment(data.draw(st.sampled_from(same_kind)))))
        if data.draw(st.integers(0, 2)) > 0:
            function = self._behaviour(data, kind, code)
            tree = data.draw(
                st.sampled_from([function, And((tree, function)), Or((tree, function))])
            )
        try:
            catalog = self.model.catalog()
            return check(tree, SCHEMAS[kind], segments=catalog, own_code=code, schemas=ALL_SCHEMAS)
        except RuleError:
            return None  # a cycle: the engine refuses it too (checked in the unit tests)

    def _behaviour(self, data: st.DataObject, kind: Kind, code: str) -> Behaviour:
        """A behaviour function of a ``kind`` segment: its condition over orders, or over
        the other kind's attributes or segments; a window; a comparison."""
        act = data.draw(st.sampled_from(CUSTOMER_ACTS if kind is Kind.CUSTOMER else PRODUCT_ACTS))
        activity = BY_ACT[act]
        over = Kind(activity.condition_kind)
        choices: list[Node | None] = [None]
        if over is Kind.ORDER:
            choices += [data.draw(st.sampled_from(ORDER_CONDITIONS))] * 2
        else:
            choices.append(data.draw(conditions(SCHEMAS[over])))
            others = [c for c, s in self.model.segments.items() if s["kind"] is over]
            if others:
                choices.append(InSegment(data.draw(st.sampled_from(others))))
        where = data.draw(st.sampled_from(choices))
        since, until = data.draw(st.sampled_from(SINCE)), data.draw(st.sampled_from(UNTIL))
        if activity.gives is None:
            return Behaviour(act, where, since, until)
        op = data.draw(st.sampled_from([Op.GT, Op.GE, Op.EQ, Op.LT, Op.NE]))
        money = act in (Act.AMOUNT_SPENT, Act.REVENUE)
        value = data.draw(st.sampled_from([0, 10, 45.5, 100] if money else [0, 1, 2, 3]))
        return Behaviour(act, where, since, until, op, value)

    # -- orders ---------------------------------------------------------------------------

    def _order(self, data: st.DataObject) -> dict[str, Any]:
        """An order placed from 40 days ago to 2 days ahead, by a customer or a guest."""
        customer = data.draw(st.sampled_from([None, *IDS]))
        days = data.draw(st.sampled_from(ORDER_DAYS))
        offset = timedelta(days=days, hours=data.draw(st.integers(0, 23)))
        lines = data.draw(
            st.lists(
                st.tuples(st.sampled_from(IDS), st.integers(1, 3), st.sampled_from(PRICES)),
                min_size=1,
                max_size=3,
            )
        )
        out: dict[str, Any] = {
            "placed_at": (self.clock.now + offset).astimezone(UTC).isoformat(),
            "status": data.draw(st.sampled_from(["placed", "placed", "cancelled", "refunded"])),
            "lines": [{"product_id": p, "quantity": q, "unit_price": u} for p, q, u in lines],
        }
        if customer is not None:
            out["customer_id"] = customer
        channel = data.draw(st.sampled_from([None, "app", "web"]))
        if channel is not None:
            out["channel"] = channel
        return out

    def _wrote(self, order_id: str, body: dict[str, Any]) -> None:
        self.model.orders[order_id] = body
        self.model.orders_written = True
        if body.get("customer_id"):  # created, with its id alone, if it did not exist
            self.model.ids[Kind.CUSTOMER].add(body["customer_id"])

    @rule(data=st.data(), order_id=st.sampled_from(ORDER_IDS))
    def put_order(self, data: st.DataObject, order_id: str) -> None:
        body = self._order(data)
        self.shop.put_order(order_id, body)
        self._wrote(order_id, body)

    @rule(data=st.data())
    def patch_order(self, data: st.DataObject) -> None:
        if not self.model.orders:
            return
        order_id = data.draw(st.sampled_from(sorted(self.model.orders)))
        fresh = self._order(data)
        keys = data.draw(
            st.one_of(
                st.sampled_from(ORDER_KEYS).map(lambda key: [key]),
                st.lists(st.sampled_from(ORDER_KEYS), min_size=2, max_size=2, unique=True),
            )
        )
        patch = {k: fresh.get(k) for k in keys}  # None removes: a customer's order turns guest
        self.shop.patch_order(order_id, patch)
        body = {**self.model.orders[order_id], **patch}
        self._wrote(order_id, {k: v for k, v in body.items() if v is not None})

    @rule(data=st.data())
    def delete_order(self, data: st.DataObject) -> None:
        if not self.model.orders:
            return
        order_id = data.draw(st.sampled_from(sorted(self.model.orders)))
        self.shop.delete_order(order_id)
        del self.model.orders[order_id]

    # -- segments (continued) ------------------------------------------------------------

    @rule(
        data=st.data(),
        kind=st.sampled_from(list(SEGMENTED_KINDS)),
        code=st.sampled_from(CODES),
        active=st.booleans(),
    )
    def create_dynamic(self, data: st.DataObject, kind: Kind, code: str, active: bool) -> None:
        if code in self.model.segments or (tree := self._rule(data, kind, code)) is None:
            return
        status = Status.ACTIVE if active else Status.INACTIVE
        self.shop.create_segment(
            SegmentSpec(kind=kind, code=code, name=code, status=status, rule=to_json(tree))
        )
        self.model.segments[code] = {"kind": kind, "active": active, "tree": tree, "fixed": None}

    @rule(data=st.data(), kind=st.sampled_from(list(SEGMENTED_KINDS)), code=st.sampled_from(CODES))
    def create_fixed(self, data: st.DataObject, kind: Kind, code: str) -> None:
        if code in self.model.segments:
            return
        members = data.draw(
            st.sets(st.sampled_from(sorted(self.model.ids[kind]) or ["-"]))
            if self.model.ids[kind]
            else st.just(set())
        )
        self.shop.create_segment(
            SegmentSpec(
                kind=kind, code=code, name=code, type=SegmentType.FIXED, members=sorted(members)
            )
        )
        self.model.segments[code] = {
            "kind": kind,
            "active": True,
            "tree": None,
            "fixed": set(members),
        }

    @precondition(lambda self: self.has_segments())
    @rule(data=st.data(), code=st.sampled_from(CODES))
    def edit_rule(self, data: st.DataObject, code: str) -> None:
        seg = self.model.segments.get(code)
        if (
            seg is None
            or seg["fixed"] is not None
            or (tree := self._rule(data, seg["kind"], code)) is None
        ):
            return
        self.shop.edit_segment(code, SegmentEdit(rule=to_json(tree)))
        seg["tree"] = tree

    @precondition(lambda self: self.has_segments())
    @rule(code=st.sampled_from(CODES), active=st.booleans())
    def set_status(self, code: str, active: bool) -> None:
        if code in self.model.segments:
            self.shop.edit_segment(
                code, SegmentEdit(status=Status.ACTIVE if active else Status.INACTIVE)
            )
            self.model.segments[code]["active"] = active

    @rule(data=st.data(), code=st.sampled_from(CODES))
    def edit_members(self, data: st.DataObject, code: str) -> None:
        seg = self.model.segments.get(code)
        if seg is None or seg["fixed"] is None or not self.model.ids[seg["kind"]]:
            return
        ids = sorted(self.model.ids[seg["kind"]])
        add = data.draw(st.sets(st.sampled_from(ids)))
        remove = data.draw(st.sets(st.sampled_from(ids))) - add
        self.shop.edit_members(code, add=sorted(add), remove=sorted(remove))
        seg["fixed"] = (seg["fixed"] | add) - remove

    @precondition(lambda self: self.has_segments())
    @rule(code=st.sampled_from(CODES))
    def delete_segment(self, code: str) -> None:
        if code not in self.model.segments:
            return
        if self.model.referred(code):
            with pytest.raises(InUseError):
                self.shop.delete_segment(code, force=True)
            return
        self.shop.delete_segment(code, force=True)
        del self.model.segments[code]

    @precondition(lambda self: self.has_segments())
    @rule(data=st.data(), new=st.sampled_from(CODES))
    def rename(self, data: st.DataObject, new: str) -> None:
        old = data.draw(st.sampled_from(sorted(self.model.segments)))
        if new in self.model.segments:
            return
        if self.model.referred(old):
            with pytest.raises(InUseError):
                self.shop.edit_segment(old, SegmentEdit(code=new))
            return
        self.shop.edit_segment(old, SegmentEdit(code=new))
        self.model.segments[new] = self.model.segments.pop(old)

    @rule(step=st.sampled_from(STEPS))
    def time_passes(self, step: timedelta) -> None:
        self.clock.advance(step)
        self.shop.sweep()
        self.unswept = False

    @rule(step=st.sampled_from(STEPS))
    def clock_moves(self, step: timedelta) -> None:
        """Time passes with no sweep yet: writes until the next one must leave nothing
        the sweep cannot bring up to date (memberships are checked after it)."""
        self.clock.advance(step)
        self.unswept = True

    # -- the checks ------------------------------------------------------------------------

    def expected(self) -> dict[str, set[str]]:
        """Every segment's members, re-evaluated from scratch at the clock's moment: the
        columnar evaluator over tables and orders built here (an id's seq is its place
        in ``IDS``), referred segments first."""
        ctx = EvalContext(self.clock.now, self.tz)
        tables = {kind: self._table(kind) for kind in SEGMENTED_KINDS}
        orders = OrderView(self._purchases(), tables)
        out: dict[str, set[str]] = {}

        def members(code: str) -> BitMap:
            return BitMap(IDS.index(i) for i in out[code])

        for code in self.model.order():
            seg = self.model.segments[code]
            if not seg["active"]:
                out[code] = set()
            elif seg["fixed"] is not None:
                out[code] = set(seg["fixed"])
            else:
                table = tables[seg["kind"]]
                expr = compile_columnar(seg["tree"], table, ctx, members, orders)
                out[code] = {IDS[seq] for seq in select(table, expr)}
        return out

    def _table(self, kind: Kind) -> ColumnarTable:
        schema: Schema = SCHEMAS[kind]
        table = ColumnarTable(schema, len(IDS))
        table.put(len(IDS) - 1, None)  # a row for every id, living or not
        for entity in self.shop.entities(kind, limit=1000).items:
            table.put(IDS.index(entity.id), encode(schema, entity.attributes))
        return table

    def _purchases(self) -> Purchases:
        """The orders as the test wrote them."""
        purchases = Purchases(ORDER_SCHEMA, 16)
        for seq, order_id in enumerate(ORDER_IDS):
            body = self.model.orders.get(order_id)
            if body is None:
                continue
            lines = [
                (ln["product_id"], ln["quantity"], Decimal(ln["unit_price"]))
                for ln in body["lines"]
            ]
            total = sum((q * price for _, q, price in lines), Decimal(0))
            customer = body.get("customer_id")
            doc = {**body, "id": order_id, "total": float(total)}
            del doc["lines"]
            record = encode(ORDER_SCHEMA, doc)
            purchases.put(
                seq,
                record=record,
                customer_seq=NO_SEQ if customer is None else IDS.index(customer),
                placed_at=record["placed_at"],
                total_micros=to_micros(total),
                counted=body["status"] == "placed",
                lines=[PurchaseLine(p, IDS.index(p), q, to_micros(u)) for p, q, u in lines],
            )
        return purchases

    def kept(self) -> dict[str, set[str]]:
        return {
            code: {m.id for m in self.shop.members(code, limit=1000).items}
            for code in self.model.segments
        }

    def replayed(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {code: set() for code in self.model.segments}
        cursor = None
        while True:
            page = self.shop.events(after=cursor, limit=1000)
            for event in page.items:
                members = out.setdefault(event.segment, set())
                (members.add if event.change == "entered" else members.discard)(event.entity_id)
            if page.next_cursor is None:
                return {code: out[code] for code in self.model.segments}
            cursor = page.next_cursor

    @invariant()
    def memberships_are_exact(self) -> None:
        if not hasattr(self, "model") or self.unswept:
            return
        expected = self.expected()
        assert self.kept() == expected
        assert self.replayed() == expected
        for code, members in expected.items():
            assert self.shop.segment(code).member_count == len(members)


@pytest.fixture
def machine_segmentry(database_url: str) -> Iterator[tuple[Segmentry, ManualClock]]:
    clock = ManualClock()
    segmentry = Segmentry(database_url, clock=clock)
    yield segmentry, clock
    segmentry.close()


def test_memberships_follow_every_change(machine_segmentry: tuple[Segmentry, ManualClock]) -> None:
    segmentry, clock = machine_segmentry
    MembershipMachine.segmentry = segmentry
    MembershipMachine.clock = clock
    run_state_machine_as_test(
        MembershipMachine,
        settings=settings(max_examples=100 if IN_CI else 20, stateful_step_count=30, deadline=None),
    )
