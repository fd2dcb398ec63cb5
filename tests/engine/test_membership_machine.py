"""The membership engine against a model, step by step (Hypothesis state machine).

Segments are created (nested ones included), edited, activated, deactivated
and deleted; entities are upserted, patched and deleted; the clock moves and
the sweeper runs. After every step the kept memberships must equal a full
re-evaluation done here, independently (Python evaluator over every entity,
referred segments first), and replaying the event feed from the start must
reproduce them. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
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

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentEdit, SegmentSpec, SegmentType, Status
from segmentry.errors import InUseError, RuleError
from segmentry.match.eval_python import compile_predicate
from segmentry.model.schema import SEGMENTED_KINDS, Kind, Schema
from segmentry.model.temporal import EvalContext
from segmentry.model.values import encode
from segmentry.rules.ast import Node, segment_refs
from segmentry.rules.check import SegmentInfo, check
from segmentry.rules.jsonform import to_json
from tests.conftest import IN_CI
from tests.engine.conftest import ManualClock
from tests.rules.strategies import SCHEMAS, ZONES, entity_values, raw_values, typed_rules, writable

IDS = [f"e{i}" for i in range(6)]
CODES = [f"s{i}" for i in range(5)]
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

    def catalog(self) -> dict[str, SegmentInfo]:
        return {
            c: SegmentInfo(
                s["kind"], tuple(r.code for r in segment_refs(s["tree"])) if s["tree"] else ()
            )
            for c, s in self.segments.items()
        }

    def order(self) -> list[str]:
        done: list[str] = []
        while len(done) < len(self.segments):
            for code, seg in self.segments.items():
                refs = {r.code for r in segment_refs(seg["tree"])} if seg["tree"] else set()
                if code not in done and refs <= set(done):
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
        self.shop.upsert(kind, entity_id, data.draw(entity_values(SCHEMAS[kind])))
        self.model.ids[kind].add(entity_id)

    @rule(data=st.data(), kind=st.sampled_from(list(SEGMENTED_KINDS)))
    def patch(self, data: st.DataObject, kind: Kind) -> None:
        if not self.model.ids[kind]:
            return
        entity_id = data.draw(st.sampled_from(sorted(self.model.ids[kind])))
        keys = data.draw(
            st.lists(st.sampled_from(writable(SCHEMAS[kind])), max_size=3, unique=True)
        )
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
            from segmentry.rules.ast import And, InSegment

            tree = And((tree, InSegment(data.draw(st.sampled_from(same_kind)))))
        try:
            return check(tree, SCHEMAS[kind], segments=self.model.catalog(), own_code=code)
        except RuleError:
            return None  # a cycle: the engine refuses it too (checked in the unit tests)

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
        if any(
            code in {r.code for r in segment_refs(s["tree"])}
            for s in self.model.segments.values()
            if s["tree"]
        ):
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
        referred = any(
            s["tree"] and old in {r.code for r in segment_refs(s["tree"])}
            for s in self.model.segments.values()
        )
        if referred:
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
        """Every segment's members, re-evaluated from scratch at the clock's moment."""
        ctx = EvalContext(self.clock.now, self.tz)
        records = {kind: self._records(kind) for kind in SEGMENTED_KINDS}
        out: dict[str, set[str]] = {}
        for code in self.model.order():
            seg = self.model.segments[code]
            if not seg["active"]:
                out[code] = set()
            elif seg["fixed"] is not None:
                out[code] = set(seg["fixed"])
            else:
                test = compile_predicate(seg["tree"], SCHEMAS[seg["kind"]], ctx, out.__getitem__)
                out[code] = {i for i, record in records[seg["kind"]].items() if test(record, i)}
        return out

    def _records(self, kind: Kind) -> dict[str, dict[str, Any]]:
        schema: Schema = SCHEMAS[kind]
        page = self.shop.entities(kind, limit=1000)
        return {e.id: encode(schema, e.attributes) for e in page.items}

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
        settings=settings(max_examples=100 if IN_CI else 12, stateful_step_count=30, deadline=None),
    )
