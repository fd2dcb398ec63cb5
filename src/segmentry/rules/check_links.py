"""Checking what ties a rule to other segments and other kinds: ``IN SEGMENT``
references (loops too, across kinds) and behaviour functions (docs/behaviour.md):
the kind of rule a function belongs in, its condition against the schema of the
kind it is over, its window and its comparison.

The :class:`~segmentry.rules.check.Checker` calls these with itself; a function's
condition is checked by a checker of the condition's kind that shares the
problems found.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from segmentry.model import temporal
from segmentry.model.limits import MAX_SAFE_INTEGER
from segmentry.model.schema import Kind
from segmentry.rules import operators
from segmentry.rules.ast import Behaviour, Condition, InSegment, Node, Span
from segmentry.rules.operators import Activity

if TYPE_CHECKING:
    from segmentry.rules.check import Checker

ABOUT = {
    Kind.ORDER: "the order (its channel, total and other attributes)",
    Kind.PRODUCT: "the product bought (its attributes and segments)",
    Kind.CUSTOMER: "the buyer (their attributes and segments)",
}
"""What a behaviour function's condition reads, by the kind it is over."""
EARLIEST = timezone(timedelta(hours=14))
LATEST = timezone(timedelta(hours=-12))
"""The zones furthest apart: a window of absolute ends empty in both is empty in every zone."""


# -- segment references ------------------------------------------------------------------


def segment(checker: Checker, ref: InSegment) -> None:
    """A reference names a known segment of the right kind, not the one checked, and
    leads back to it through no chain of references (across kinds too)."""
    info = checker.segments.get(ref.code)
    span = ref.code_span
    kind = checker.schema.kind
    if checker.within is not None and kind is Kind.ORDER:
        act = checker.within.act.value
        checker.report(span, f"orders have no segments: the condition of {act}() cannot "
                       "use IN SEGMENT", f"it is about {ABOUT[kind]}")  # fmt: skip
    elif ref.code == checker.own_code:
        checker.report(span, f"a segment cannot refer to itself ({ref.code!r})")
    elif info is None:
        hint = checker.did_you_mean(ref.code, list(checker.segments))
        checker.report(span, f"unknown segment {ref.code!r}", hint)
    elif info.kind is not kind:
        about = (
            f"the condition of {checker.within.act.value}() is about {kind}s"
            if checker.within is not None
            else f"this rule is about {kind}s"
        )
        checker.report(span, f"segment {ref.code!r} is a {info.kind} segment; {about}")
    elif checker.own_code is not None and (cycle := cycle_through(checker, ref.code)):
        path = " → ".join([checker.own_code, *cycle])
        checker.report(span, f"circular segment reference: {path}", "remove one of the references")


def cycle_through(checker: Checker, start: str) -> list[str]:
    """The path from ``start`` back to the segment being checked, if any, through
    references of every kind (iterative DFS)."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        code, path = stack.pop()
        if code == checker.own_code:
            return path
        if code in seen:
            continue
        seen.add(code)
        info = checker.segments.get(code)
        following = (*info.refs, *info.cross) if info else ()
        stack.extend((nxt, [*path, nxt]) for nxt in following)
    return []


# -- behaviour functions -----------------------------------------------------------------


def behaviour(checker: Checker, node: Behaviour) -> Node:
    """A behaviour function with its condition checked and normalised."""
    row = operators.BY_ACT[node.act]
    name = f"{node.act.value}()"
    if checker.within is not None:
        checker.report(node.spans.name, f"{name} cannot be used inside the condition of "
                       f"{checker.within.act.value}()", _nested_hint(checker.within))  # fmt: skip
        return node
    if row.segment_kind != checker.schema.kind:
        checker.report(node.spans.name, f"{name} belongs in {row.segment_kind} rules; "
                       f"this rule is about {checker.schema.kind}s")  # fmt: skip
        return node
    window(checker, node)
    comparison(checker, node, row)
    if node.where is None:
        return node
    inner = checker.over(Kind(row.condition_kind), row)
    where = inner.node(node.where)
    checker.asked = inner.asked
    return replace(node, where=where)


def _nested_hint(within: Activity) -> str:
    kind = Kind(within.condition_kind)
    if kind is Kind.ORDER:
        return f"the condition of {within.act.value}() is about {ABOUT[kind]}"
    return (
        f"put it in a segment of {kind}s and use IN SEGMENT 'code' here, which stays "
        "exact through membership propagation"
    )


def unknown_elsewhere(checker: Checker, cond: Condition) -> tuple[str, str] | None:
    """For an attribute unknown in a function's condition but known to another kind:
    the message and hint that say whose attribute it is."""
    within = checker.within
    if within is None:
        return None
    own = checker.schema.kind
    outer = Kind(within.segment_kind)
    for kind in (outer, *(k for k in Kind if k not in (own, outer))):
        attribute = checker.schema_of(kind).get(cond.attr)
        if attribute is None:
            continue
        message = f"{attribute.key} is {_a(kind)} attribute, not {_a(own)} one"
        act = within.act.value
        if kind is outer:
            hint = f"test the {kind} outside the function: ... AND {act}(...)"
        else:
            hint = f"the condition of {act}() is about {ABOUT[own]}"
        return message, hint
    return None


def _a(kind: Kind) -> str:
    return f"an {kind}" if kind is Kind.ORDER else f"a {kind}"


def comparison(checker: Checker, node: Behaviour, row: Activity) -> None:
    """``purchased`` takes no comparison; the others one of =, !=, <, <=, >, >= and a number."""
    name = f"{node.act.value}()"
    if row.gives is None:
        if node.op is not None or node.value is not None:
            hint = "to compare the units bought, use units_purchased(...) >= 2"
            checker.report(node.spans.op, f"{name} is true or false: it takes no comparison", hint)
        return
    if node.op not in operators.BEHAVIOUR_OPS:
        allowed = operators.listed(operators.BEHAVIOUR_OPS)
        checker.report(node.spans.op if node.op else node.spans.name,
                       f"{name} is compared with {allowed}", f"{name} >= 1")  # fmt: skip
        return
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        checker.report(node.spans.value, f"{name} is compared with a number, not {value!r}",
                       "write a number without quotes: 500 or 99.99")  # fmt: skip
    elif abs(value) > MAX_SAFE_INTEGER:
        checker.report(node.spans.value, f"number {value} is out of range",
                       f"numbers are limited to ±{MAX_SAFE_INTEGER:,}")  # fmt: skip


def window(checker: Checker, node: Behaviour) -> None:
    """Each end a temporal literal, and ``until`` not before ``since`` when both ends are
    absolute or both relative (one of each is empty at some moments only)."""
    since = _end(checker, "since", node.since, node.spans.since)
    until = _end(checker, "until", node.until, node.spans.until)
    if since is None or until is None:
        return
    if _absolute(since) and _absolute(until):
        empty = all(_empty(since, until, zone) for zone in (EARLIEST, LATEST))
    elif not _absolute(since) and not _absolute(until):
        empty = _always_empty(since, until)
    else:
        return
    if empty:
        checker.report(
            node.spans.until,
            f"until: {node.until} is before since: {node.since}, so the window is empty",
            "swap them, or move until: later",
        )


def _end(checker: Checker, word: str, text: str | None, span: Span) -> temporal.Temporal | None:
    if text is None:
        return None
    try:
        value = temporal.read_temporal(text)
    except temporal.TemporalError as exc:
        checker.report(span, f"{word}: {exc}")
        return None
    if value is None:
        checker.report(span, f"{word}: {text!r} is not a date or relative time",
                       "write -30d, 2024-01-01, 2024-01-01T10:00:00Z or today")  # fmt: skip
    return value


def _absolute(value: temporal.Temporal) -> bool:
    return isinstance(value, temporal.AbsoluteDate | temporal.AbsoluteDateTime)


def _empty(since: temporal.Temporal, until: temporal.Temporal, zone: timezone) -> bool:
    ctx = temporal.EvalContext(datetime(2000, 1, 1, tzinfo=UTC), zone)
    return temporal.window_end(until, ctx) < temporal.window_start(since, ctx)


HOURS = {"h": (1, 1), "d": (24, 24), "w": (168, 168), "m": (28 * 24, 31 * 24),
         "y": (365 * 24, 366 * 24)}  # fmt: skip
"""The fewest and most hours one step of each unit can be (months and years vary)."""


def _always_empty(since: temporal.Temporal, until: temporal.Temporal) -> bool:
    """Whether a window of two relative ends is empty at every moment: exactly for two
    day words or two offsets of one unit, and otherwise when the latest ``until`` can be
    is before the earliest ``since`` can be."""
    if isinstance(since, temporal.DayWord) and isinstance(until, temporal.DayWord):
        return until.offset < since.offset
    if (
        isinstance(since, temporal.Relative)
        and isinstance(until, temporal.Relative)
        and since.unit == until.unit
    ):
        return until.amount < since.amount
    return _hours(until, end=True)[1] < _hours(since, end=False)[0]


def _hours(value: temporal.Temporal, *, end: bool) -> tuple[int, int]:
    """The earliest and latest a relative end can be, in hours from now (an hour either
    way for a change of daylight saving)."""
    if isinstance(value, temporal.DayWord):
        # a day starts up to a day (and an hour) before now; it ends a day after it starts
        start = 24 * (value.offset + (1 if end else 0))
        return start - 26, start + 1
    assert isinstance(value, temporal.Relative)
    low, high = HOURS[value.unit]
    steps = sorted((value.amount * low, value.amount * high))
    slack = 0 if value.unit == "h" else 1
    return steps[0] - slack, steps[1] + slack
