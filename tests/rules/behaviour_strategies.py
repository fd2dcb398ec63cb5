"""Hypothesis strategies for rules with behaviour functions (docs/behaviour.md).

Untyped trees (any function around any rule, nested functions too) for the round
trips of the text and JSON forms; typed ones, which the checker accepts, over the
schemas of the three kinds.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import strategies as st

from segmentry.model.schema import Kind, Schema
from segmentry.model.temporal import canonical, read_temporal
from segmentry.rules.ast import Behaviour, InSegment, Node
from segmentry.rules.check import SegmentInfo
from segmentry.rules.operators import BEHAVIOUR_OPS, BY_ACT, Act
from tests.rules.strategies import (
    SCHEMAS,
    _groups,
    any_conditions,
    any_text,
    custom_attributes,
    temporal_literals,
    typed_rules,
)


def _canonical(text: str) -> str:
    value = read_temporal(text)
    assert value is not None
    return canonical(value)


window_ends = temporal_literals.map(_canonical)
counted = st.one_of(
    st.integers(-2, 10),
    st.sampled_from([0, 0.5, 99.99, 100.01, 500, 1e-7, 2**53]),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)
"""Numbers a counted value is compared with."""

ALL_SCHEMAS: dict[Kind, Schema] = {
    **SCHEMAS,
    Kind.ORDER: Schema(Kind.ORDER, custom_attributes(Kind.ORDER)),
}
"""Every kind's schema with one custom attribute of each type (orders too)."""
CROSS_SEGMENTS = {"p_seg": Kind.PRODUCT, "c_seg": Kind.CUSTOMER}
CATALOG = {
    **{code: SegmentInfo(kind) for code, kind in CROSS_SEGMENTS.items()},
    "seg_a": SegmentInfo(Kind.CUSTOMER),
}
"""Segments the typed rules may name: inside a condition, one of the condition's kind."""


@st.composite
def behaviour_of(
    draw: st.DrawFn,
    where: st.SearchStrategy[Node | None],
    acts: tuple[Act, ...] = tuple(Act),
    ends: st.SearchStrategy[tuple[str | None, str | None]] | None = None,
) -> Behaviour:
    """A function of ``acts`` around a condition of ``where``, with a window of ``ends``
    (any two ends, or none, by default) and, but for ``purchased``, a comparison."""
    act = draw(st.sampled_from(acts))
    since, until = draw(ends if ends is not None else st.tuples(_end(), _end()))
    op, value = None, None
    if act is not Act.PURCHASED:
        op = draw(st.sampled_from(sorted(BEHAVIOUR_OPS)))
        value = draw(counted)
    return Behaviour(act, draw(where), since, until, op, value)


def _end() -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), window_ends)


def any_rules_with_behaviours(max_leaves: int = 12) -> st.SearchStrategy[Node]:
    """Untyped rules where any item may be a behaviour function, around any rule."""
    plain = st.one_of(any_conditions(), any_text.filter(bool).map(InSegment))
    leaf = st.one_of(plain, behaviour_of(st.none()))

    def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
        return st.one_of(_groups(children), behaviour_of(st.one_of(st.none(), children)))

    return st.recursive(leaf, extend, max_leaves=max_leaves)


@st.composite
def ordered_ends(draw: st.DrawFn) -> tuple[str | None, str | None]:
    """A window the checker accepts: one end, both open, or ``until`` after ``since``."""
    shape = draw(st.sampled_from(["none", "since", "until", "days", "dates"]))
    if shape in ("since", "until"):
        end = draw(window_ends)
        return (end, None) if shape == "since" else (None, end)
    if shape == "days":
        near, far = sorted(draw(st.lists(st.integers(0, 400), min_size=2, max_size=2)))
        return f"-{far}d" if far else "+0d", f"-{near}d" if near else "+0d"
    if shape == "dates":
        dates = st.dates(date(1000, 1, 1), date(9998, 12, 31))
        first, last = sorted(draw(st.lists(dates, min_size=2, max_size=2)))
        return first.isoformat(), last.isoformat()
    return None, None


def _condition(kind: Kind) -> st.SearchStrategy[Node | None]:
    codes = [code for code, of in CROSS_SEGMENTS.items() if of is kind]
    inner = typed_rules(ALL_SCHEMAS[kind], segments=False)
    if codes:
        inner = st.one_of(inner, inner, st.sampled_from(codes).map(InSegment))
    return st.one_of(st.none(), inner)


def typed_behaviour_rules(kind: Kind) -> st.SearchStrategy[Node]:
    """Rules of ``kind`` with its behaviour functions, each over a typed condition."""
    acts = tuple(row.act for row in BY_ACT.values() if row.segment_kind == kind)
    calls = [
        behaviour_of(_condition(Kind(BY_ACT[act].condition_kind)), (act,), ordered_ends())
        for act in acts
    ]
    leaf: st.SearchStrategy[Any] = st.one_of(*calls, typed_rules(SCHEMAS[kind], segments=False))
    return st.recursive(leaf, _groups, max_leaves=4)
