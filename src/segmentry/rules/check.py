"""The type checker: a rule against a tenant's attributes and segments.

:func:`check` walks the whole tree, collects every problem (unknown
attributes with did-you-mean, operators that do not apply, values of the
wrong type, enum values that do not exist, bad patterns, unknown or circular
segment references, misplaced or malformed behaviour functions) and either
raises one RuleError listing them all or returns a new, normalised tree:
attribute keys in their declared spelling and enum values in their declared
case. References and behaviour functions are checked in :mod:`.check_links`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from segmentry.errors import Diagnostic, RuleError
from segmentry.model import temporal
from segmentry.model.schema import Attribute, AttrType, Kind, Schema
from segmentry.model.suggest import MAX_SUGGESTIONS, suggest
from segmentry.rules import check_links, operators, regex
from segmentry.rules.ast import (
    And,
    AttrRef,
    Behaviour,
    Condition,
    InSegment,
    Node,
    Not,
    Or,
    Scalar,
    Span,
    Value,
)
from segmentry.rules.operators import Activity, Arity, Op

ENUM_MEMBERSHIP_OPS = frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN})
FAMILIES = {
    AttrType.NUMBER: "number", AttrType.INTEGER: "number", AttrType.STRING: "string",
    AttrType.ENUM: "string", AttrType.DATE: "date", AttrType.DATETIME: "datetime",
}  # fmt: skip
"""The attribute types that compare with one another (a date with a date-time does not:
a day has no one place among moments)."""
TEMPORAL_HINT = (
    "dates look like 2024-03-01, date-times like 2024-03-01T10:00:00Z, "
    "relative times like -30d, today"
)


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """What the checker needs to know of another segment: its kind, its references to
    segments of its kind and those inside its behaviour conditions, to other kinds."""

    kind: Kind
    refs: tuple[str, ...] = ()
    cross: tuple[str, ...] = ()


def check(
    node: Node,
    schema: Schema,
    *,
    text: str = "",
    segments: Mapping[str, SegmentInfo] | None = None,
    own_code: str | None = None,
    schemas: Mapping[Kind, Schema] | None = None,
) -> Node:
    """The normalised tree of ``node``, or a RuleError with every problem found.

    ``schemas`` holds the tenant's schema of each kind, for the conditions of behaviour
    functions (over orders, products or customers); a kind it lacks has its built-ins."""
    checker = Checker(
        schema, text, segments=segments or {}, own_code=own_code, schemas=schemas or {}
    )
    result = checker.node(node)
    if checker.problems:
        raise RuleError(sorted(checker.problems, key=lambda d: d.offset), text)
    return result


class Checker:
    def __init__(
        self,
        schema: Schema,
        text: str,
        *,
        segments: Mapping[str, SegmentInfo],
        own_code: str | None,
        schemas: Mapping[Kind, Schema],
        within: Activity | None = None,
    ) -> None:
        self.schema = schema
        self.text = text
        self.segments = segments
        self.own_code = own_code
        self.schemas = schemas
        self.within = within
        """The behaviour function whose condition this checker checks, if any."""
        self.problems: list[Diagnostic] = []
        self.asked = 0  # names a did-you-mean was sought for

    def schema_of(self, kind: Kind) -> Schema:
        if kind is self.schema.kind and self.within is None:
            return self.schema
        return self.schemas.get(kind) or Schema(kind)

    def over(self, kind: Kind, within: Activity) -> Checker:
        """A checker of the condition of ``within``, over ``kind``, reporting with this one."""
        inner = Checker(
            self.schema_of(kind),
            self.text,
            segments=self.segments,
            own_code=self.own_code,
            schemas=self.schemas,
            within=within,
        )
        inner.problems = self.problems
        inner.asked = self.asked
        return inner

    def report(self, span: Span, message: str, hint: str = "") -> None:
        length = max(1, span.end - span.start)
        self.problems.append(Diagnostic(message, span.line, span.column, hint, span.start, length))

    def node(self, node: Node) -> Node:
        match node:
            case And(items):
                return replace(node, items=tuple(self.node(i) for i in items))
            case Or(items):
                return replace(node, items=tuple(self.node(i) for i in items))
            case Not(item):
                return replace(node, item=self.node(item))
            case InSegment():
                check_links.segment(self, node)
                return node
            case Condition():
                return self.condition(node)
            case Behaviour():
                return check_links.behaviour(self, node)

    # -- conditions ----------------------------------------------------------

    def condition(self, cond: Condition) -> Node:
        attribute = self.attribute(cond)
        if attribute is None:
            return cond
        if cond.fn is not None:
            return self.function(cond, attribute)
        if cond.each is not None:
            return self.quantified(cond, attribute)
        if isinstance(cond.value, AttrRef):
            return self.compared_attributes(cond, attribute, cond.value)
        if cond.op not in operators.BY_TYPE[attribute.type]:
            self.bad_operator(cond, attribute)
            return cond
        value = self.value(cond, attribute)
        return replace(cond, attr=attribute.key, value=value)

    def function(self, cond: Condition, attribute: Attribute) -> Node:
        """A function's argument, its operator, and its values as values of the type
        it gives (``count(tags) >= 'two'`` is told ``count(tags)`` is an integer)."""
        assert cond.fn is not None
        row = operators.BY_FN[cond.fn]
        name = f"{cond.fn.value}()"
        if attribute.type not in row.takes:
            takes = " or ".join(sorted(t.described for t in row.takes))
            self.report(
                cond.spans.attr,
                f"{name} does not apply to {attribute.key} ({attribute.described})",
                f"{name} takes {takes}",
            )
            return cond
        subject = f"{cond.fn.value}({attribute.key})"
        if cond.op not in row.ops:
            self.report(
                cond.spans.op,
                f"{cond.op.text!r} does not apply to {subject} ({row.gives.described})",
                f"use one of {operators.listed(row.ops)}",
            )
            return cond
        value = self.value(cond, Attribute(subject, subject, row.gives))
        return replace(cond, attr=attribute.key, value=value)

    def quantified(self, cond: Condition, attribute: Attribute) -> Node:
        """``ANY tags STARTS WITH 'a'``: a list, a string test, a string."""
        assert cond.each is not None
        word = cond.each.value.upper()
        if attribute.type is not AttrType.STRING_LIST:
            self.report(
                cond.spans.attr,
                f"{word} does not apply to {attribute.key} ({attribute.described})",
                f"{word} tests the items of a list: {word} tags STARTS WITH 'a'",
            )
            return cond
        if cond.op not in operators.EACH_OPS:
            self.report(
                cond.spans.op,
                f"{cond.op.text!r} does not apply to each item of {attribute.key} (strings)",
                f"use one of {operators.listed(operators.EACH_OPS)}",
            )
            return cond
        assert isinstance(cond.value, str | int | float | bool), "a test of one value"
        value = self.text_value(cond, attribute, cond.value, cond.spans.value)
        return replace(cond, attr=attribute.key, value=value)

    def compared_attributes(self, cond: Condition, attribute: Attribute, ref: AttrRef) -> Node:
        """Two attributes of one family: numbers, strings (enums too), dates, date-times."""
        other = self.schema.get(ref.attr)
        if other is None:
            hint = self.did_you_mean(ref.attr.lower(), [a.key for a in self.schema])
            self.report(cond.spans.value, f"unknown attribute {ref.attr!r}",
                        hint or f"strings need quotes: '{ref.attr}'")  # fmt: skip
            return cond
        family = FAMILIES.get(attribute.type)
        if family is None or family != FAMILIES.get(other.type):
            self.report(
                cond.spans.value,
                f"{attribute.key} ({attribute.described}) cannot be compared with "
                f"{other.key} ({other.described})",
                "compare numbers with numbers, strings with strings, dates with dates and "
                "date-times with date-times",
            )
            return cond
        return replace(cond, attr=attribute.key, value=AttrRef(other.key))

    def attribute(self, cond: Condition) -> Attribute | None:
        attribute = self.schema.get(cond.attr)
        if attribute is None:
            if elsewhere := check_links.unknown_elsewhere(self, cond):
                self.report(cond.spans.attr, *elsewhere)
            else:
                self.report(cond.spans.attr, f"unknown attribute {cond.attr!r}",
                            self.suggest_attr(cond.attr))  # fmt: skip
        return attribute

    def did_you_mean(self, word: str, choices: list[str] | dict[str, str]) -> str:
        """A did-you-mean for the first few unknown names of a rule only."""
        self.asked += 1
        return suggest(word, choices, made=self.asked - 1, cap=MAX_SUGGESTIONS)

    def suggest_attr(self, name: str) -> str:
        by_name = {a.key: a.key for a in self.schema}
        by_name.update({a.label.lower().replace(" ", "_"): a.key for a in self.schema})
        if close := self.did_you_mean(name.lower(), by_name):
            return close
        keys = ", ".join(a.key for a in self.schema)
        return f"{self.schema.kind} attributes are {keys}"

    def bad_operator(self, cond: Condition, attribute: Attribute) -> None:
        allowed = operators.listed(operators.BY_TYPE[attribute.type])
        self.report(
            cond.spans.op,
            f"{cond.op.text!r} does not apply to {attribute.key} ({attribute.described})",
            f"use one of {allowed}",
        )

    def value(self, cond: Condition, attribute: Attribute) -> Value:
        op = cond.op
        if op.arity is Arity.NONE:
            return None
        assert cond.value is not None, "the parser gives every valued operator a value"
        assert not isinstance(cond.value, AttrRef), "compared_attributes checks those"
        values = cond.value if isinstance(cond.value, tuple) else (cond.value,)
        spans = cond.spans.items or (cond.spans.value,) * len(values)
        checked = tuple(
            self.scalar(cond, attribute, v, s) for v, s in zip(values, spans, strict=False)
        )
        if op.arity is Arity.PAIR:
            self.ordered_pair(cond, checked)
        if isinstance(cond.value, tuple):
            return checked
        return checked[0]

    def scalar(self, cond: Condition, attribute: Attribute, value: Scalar, span: Span) -> Scalar:
        kind = attribute.type
        if kind.is_textual or kind is AttrType.STRING_LIST:
            return self.text_value(cond, attribute, value, span)
        if kind.is_numeric:
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.mismatch(attribute, value, span, "write a number without quotes: 100 or 9.99")
        elif kind is AttrType.BOOLEAN:
            if not isinstance(value, bool):
                self.mismatch(attribute, value, span, "write true or false, without quotes")
        elif kind.is_temporal:
            self.temporal_value(attribute, value, span)
        return value

    def text_value(
        self, cond: Condition, attribute: Attribute, value: Scalar, span: Span
    ) -> Scalar:
        if not isinstance(value, str):
            self.mismatch(
                attribute, value, span, f"put it in quotes: '{value}'", expected="a string"
            )
            return value
        if "\x00" in value:
            self.report(span, "strings cannot hold the NUL character")
        if attribute.type is AttrType.ENUM and cond.op in ENUM_MEMBERSHIP_OPS:
            return self.enum_value(attribute, value, span)
        if cond.op is Op.MATCHES:
            self.pattern(value, span)
        return value

    def enum_value(self, attribute: Attribute, value: str, span: Span) -> str:
        declared = attribute.folded_values.get(value.casefold())
        if declared is not None:
            return declared
        hint = self.did_you_mean(value, list(attribute.values))
        allowed = ", ".join(attribute.values)
        self.report(
            span, f"{value!r} is not a value of {attribute.key}; expected one of {allowed}", hint
        )
        return value

    def pattern(self, value: str, span: Span) -> None:
        try:
            regex.parse_pattern(value)
        except regex.PatternError as exc:
            self.report(
                self.inside_string(span, value, exc.offset, exc.length),
                f"bad pattern: {exc.message}",
                exc.hint,
            )

    def inside_string(self, span: Span, value: str, offset: int, length: int) -> Span:
        """The span of ``value[offset:offset+length]`` in the text, when it maps exactly."""
        raw = self.text[span.start + 1 : span.end - 1]
        if raw != value or span.end - span.start != len(value) + 2:
            return span
        start = span.start + 1 + offset
        return Span(start, start + length, span.line, span.column + 1 + offset)

    def temporal_value(self, attribute: Attribute, value: Scalar, span: Span) -> None:
        if not isinstance(value, str):
            self.mismatch(attribute, value, span, TEMPORAL_HINT)
            return
        try:
            parsed = temporal.read_temporal(value)
        except temporal.TemporalError as exc:
            self.report(span, str(exc), TEMPORAL_HINT)
            return
        if parsed is None:
            self.mismatch(attribute, value, span, TEMPORAL_HINT)

    def mismatch(
        self, attribute: Attribute, value: Scalar, span: Span, hint: str, expected: str = ""
    ) -> None:
        self.report(
            span,
            f"{attribute.key} is {attribute.described}; {_show(value)} is {_described(value)}"
            + (f", expected {expected}" if expected else ""),
            hint,
        )

    def ordered_pair(self, cond: Condition, pair: Sequence[Scalar]) -> None:
        low, high = pair
        if _comparable(low, high) and low > high:  # type: ignore[operator]
            self.report(
                cond.spans.value,
                f"BETWEEN {_show(low)} AND {_show(high)} is empty: "
                "the low end is above the high end",
                f"swap them: BETWEEN {_show(high)} AND {_show(low)}",
            )


def _comparable(low: Scalar, high: Scalar) -> bool:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high))
    if numbers:
        return True
    try:
        first, second = temporal.read_temporal(str(low)), temporal.read_temporal(str(high))
    except temporal.TemporalError:
        return False
    return isinstance(first, temporal.AbsoluteDate) and isinstance(second, temporal.AbsoluteDate)


def _described(value: Scalar) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string"


def _show(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."
