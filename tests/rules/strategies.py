"""Hypothesis strategies: typed rules, entities with missing values, moments and zones.

Values are drawn from small pools shared by entities and rule literals, so
that conditions really match some entities and miss others: case variants,
multi-character case folds, decimals, day boundaries in the tenant's zone.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from segmentry.model.limits import MAX_DEPTH, MAX_SAFE_INTEGER
from segmentry.model.schema import SEGMENTED_KINDS, Attribute, AttrType, Kind, Schema, declare
from segmentry.model.temporal import EvalContext
from segmentry.rules.ast import And, AttrRef, Condition, InSegment, Node, Not, Or, Scalar
from segmentry.rules.check import FAMILIES
from segmentry.rules.operators import ATTRIBUTE_OPS, BY_FN, BY_TYPE, EACH_OPS, Each, Fn, Op

ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "Australia/Lord_Howe",
         "Europe/Madrid", "America/Santiago", "Pacific/Kiritimati"]  # fmt: skip

WORDS = ["Nike", "nike", "NIKE", "Straße", "STRASSE", "strasse", "ǅemal", "İstanbul", "istanbul",
         "ﬁle", "file", "a%b_c", "AB-12", "ab-123", "x'y", 'q"r', "back\\slash", "é", "é",
         "日本", "Ωmega", "ωMEGA", "  padded  ", "line\nbreak", "tab\there", "0", "10"]  # fmt: skip
ENUM_VALUES = ("Bronze", "Silver", "Gold", "Ünïcode")
SEGMENT_CODES = ("seg_a", "seg_b")


def custom_attributes(kind: Kind) -> tuple[Attribute, ...]:
    return (
        declare(kind, "c_str", "string"),
        declare(kind, "c_num", "number"),
        declare(kind, "c_int", "integer"),
        declare(kind, "c_bool", "boolean"),
        declare(kind, "c_date", "date"),
        declare(kind, "c_dt", "datetime"),
        declare(kind, "c_list", "string_list"),
        declare(kind, "c_enum", "enum", values=ENUM_VALUES),
    )


SCHEMAS = {kind: Schema(kind, custom_attributes(kind)) for kind in SEGMENTED_KINDS}
ONE_OF_EACH_TYPE = Schema(
    Kind.PRODUCT,
    tuple(
        declare(Kind.PRODUCT, f"x_{t.value}", t, values=("Gold",) if t is AttrType.ENUM else ())
        for t in AttrType
    ),
)
"""Products with one custom attribute of each type, keyed ``x_<type>``: ``x_date``."""


def writable(schema: Schema) -> list[Attribute]:
    return [a for a in schema if not a.derived and a.key != "id"]


# -- scalar pools ------------------------------------------------------------------

words = st.one_of(st.sampled_from(WORDS), st.text(alphabet="aAbBßsSİi ", max_size=5))
numbers = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0, 10, 10.0, 99.99, 100, 100.01, -0.5, 1e-7, 2**53]),
    st.decimals(-1000, 1000, places=2, allow_nan=False).map(float),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)
integers = st.one_of(
    st.integers(-5, 5), st.sampled_from([0, 100, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER])
)
BASE_DAY = date(2025, 3, 29)  # near a daylight-saving change in Europe and Chile
days = st.integers(-40, 40).map(lambda n: BASE_DAY + timedelta(days=n))
clock_times = st.sampled_from(["00:00:00", "00:00:00.000001", "23:59:59.999999", "12:00:00",
                               "02:30:00", "01:00:00"])  # fmt: skip


@st.composite
def local_datetimes(draw: st.DrawFn) -> str:
    """A date-time string; naive ones are read in the tenant's zone (so they hit day edges)."""
    day = draw(days).isoformat()
    text = f"{day}T{draw(clock_times)}"
    return text + draw(st.sampled_from(["", "", "Z", "+05:30", "-03:00"]))


@st.composite
def moments(draw: st.DrawFn) -> EvalContext:
    tz = ZoneInfo(draw(st.sampled_from(ZONES)))
    day = draw(days)
    offset = draw(st.sampled_from([0, 1, -1, 3600_000_000, 43_200_000_000, 86_399_999_999]))
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    now = start.astimezone(UTC) + timedelta(microseconds=offset + draw(st.integers(0, 10)))
    return EvalContext(now=now, tz=tz)


@functools.cache
def raw_values(attribute: Attribute) -> st.SearchStrategy[Any]:
    """Valid raw values of an attribute (as a shop would send them). One strategy per
    attribute: Hypothesis validates every new strategy, which cost more than the draws."""
    kind = attribute.type
    if kind is AttrType.ENUM:
        return st.sampled_from(attribute.values).flatmap(
            lambda v: st.sampled_from([v, v.upper(), v.lower()])
        )
    return {
        AttrType.STRING: words,
        AttrType.NUMBER: numbers,
        AttrType.INTEGER: integers,
        AttrType.BOOLEAN: st.booleans(),
        AttrType.DATE: days.map(date.isoformat),
        AttrType.DATETIME: local_datetimes(),
        AttrType.STRING_LIST: st.lists(words, max_size=4),
    }[kind]


@st.composite
def entity_values(draw: st.DrawFn, schema: Schema) -> dict[str, Any]:
    """Raw attribute values of one entity: a random subset, others missing."""
    present = [a for a in writable(schema) if draw(st.integers(0, 9)) < 6]
    return {a.key: draw(raw_values(a)) for a in present}


# -- literals of rules ----------------------------------------------------------------

temporal_literals = st.one_of(
    days.map(date.isoformat),
    local_datetimes(),
    st.sampled_from(["today", "yesterday", "tomorrow"]),
    st.tuples(st.sampled_from("-+"), st.integers(0, 60), st.sampled_from("hdwmy")).map(
        lambda t: f"{t[0]}{t[1]}{t[2]}"
    ),
)
PATTERNS = ["^n", "KE$", "[a-z]+-\\d+", "STRA(SS|ß)E", ".", "^$", "i̇", "^\\w+$", "\\s",
            "[^a-z]", "ω", "(a|b)*c?", "\\.", "^.{3,5}$", "%", "日"]  # fmt: skip


def literal(attribute: Attribute, op: Op) -> st.SearchStrategy[Scalar]:
    kind = attribute.type
    if op is Op.MATCHES:
        return st.sampled_from(PATTERNS)
    if kind is AttrType.ENUM and op in (Op.EQ, Op.NE, Op.IN, Op.NOT_IN):
        return st.sampled_from(attribute.values).map(lambda v: v.lower() if len(v) > 4 else v)
    if kind.is_textual or kind is AttrType.STRING_LIST:
        return st.one_of(words, words.map(lambda w: w[:2]), words.map(lambda w: w[-2:]))
    if kind.is_temporal:
        return temporal_literals
    return {AttrType.NUMBER: numbers, AttrType.INTEGER: numbers, AttrType.BOOLEAN: st.booleans()}[
        kind
    ]


COUNT_LITERALS = st.one_of(st.integers(-1, 5), st.sampled_from([0.5, 1.5, 2.0]))
"""Counts around the lists' sizes (0 to 4 items), with decimals between them."""


@st.composite
def conditions(draw: st.DrawFn, schema: Schema) -> Condition:
    attribute = draw(st.sampled_from(list(schema)))
    if attribute.type in BY_FN[Fn.COUNT].takes and draw(st.integers(0, 2)) == 0:
        return draw(count_conditions(attribute))
    if attribute.type in BY_FN[Fn.ANNIVERSARY].takes and draw(st.integers(0, 2)) == 0:
        return draw(anniversary_conditions(attribute))
    if attribute.type is AttrType.STRING_LIST and draw(st.integers(0, 2)) == 0:
        return draw(quantified(attribute))
    if attribute.type in FAMILIES and draw(st.integers(0, 5)) == 0:
        return draw(compared_attributes(schema, attribute))
    op = draw(st.sampled_from(sorted(BY_TYPE[attribute.type])))
    value = draw(operand(attribute, op))
    return Condition(attribute.key, op, value)


@st.composite
def compared_attributes(draw: st.DrawFn, schema: Schema, attribute: Attribute) -> Condition:
    """``attribute op other`` with another attribute of its family (itself too)."""
    family = FAMILIES[attribute.type]
    other = draw(st.sampled_from([a for a in schema if FAMILIES.get(a.type) == family]))
    op = draw(st.sampled_from(sorted(ATTRIBUTE_OPS)))
    return Condition(attribute.key, op, AttrRef(other.key))


@st.composite
def quantified(draw: st.DrawFn, attribute: Attribute) -> Condition:
    """``ANY|ALL|NONE list <string test>``."""
    op = draw(st.sampled_from(sorted(EACH_OPS)))
    value = draw(literal(attribute, op))
    return Condition(attribute.key, op, value, each=draw(st.sampled_from(list(Each))))


@st.composite
def count_conditions(draw: st.DrawFn, attribute: Attribute) -> Condition:
    op = draw(st.sampled_from(sorted(BY_FN[Fn.COUNT].ops)))
    if op.arity.value == "pair":
        value: Any = tuple(sorted((draw(COUNT_LITERALS), draw(COUNT_LITERALS))))
    else:
        value = draw(COUNT_LITERALS)
    return Condition(attribute.key, op, value, fn=Fn.COUNT)


ANNIVERSARY_LITERALS = st.one_of(
    st.sampled_from(["today", "yesterday", "tomorrow", "+7d", "-1d", "+1y", "+11m", "-12h"]),
    temporal_literals,
)
"""Days around today (where anniversaries are), and every other temporal literal."""


@st.composite
def anniversary_conditions(draw: st.DrawFn, attribute: Attribute) -> Condition:
    op = draw(st.sampled_from(sorted(BY_FN[Fn.ANNIVERSARY].ops)))
    if op.arity.value == "pair":
        pair = (draw(ANNIVERSARY_LITERALS), draw(ANNIVERSARY_LITERALS))
        value: Any = tuple(sorted(pair, key=_sort_key))
    else:
        value = draw(ANNIVERSARY_LITERALS)
    return Condition(attribute.key, op, value, fn=Fn.ANNIVERSARY)


def operand(attribute: Attribute, op: Op) -> st.SearchStrategy[Any]:
    arity = op.arity.value
    one = literal(attribute, op)
    if arity == "none":
        return st.none()
    if arity == "pair":
        sortable = st.tuples(one, one).map(lambda p: tuple(sorted(p, key=_sort_key)))
        return sortable
    if arity == "list":
        return st.lists(one, min_size=1, max_size=4).map(tuple)
    return one


def _sort_key(value: Scalar) -> Any:
    # BETWEEN with two absolute dates must be ordered to pass the checker.
    return (0, value) if isinstance(value, int | float) else (1, str(value))


SECOND_ROUND_OPS = frozenset(
    {Op.NOT_STARTS_WITH, Op.NOT_ENDS_WITH, Op.NOT_BETWEEN, Op.CONTAINS_NONE}
)
"""The operators added in the second round of the language (SPEC §3)."""


@st.composite
def second_round_conditions(draw: st.DrawFn, schema: Schema) -> Condition:
    """Conditions of the constructs added in the second round only, so that a property
    meets them often: the written negations, CONTAINS NONE, count(list), attributes
    compared with attributes and ANY/ALL/NONE list tests."""
    attribute = draw(
        st.sampled_from(
            [a for a in schema if BY_TYPE[a.type] & SECOND_ROUND_OPS or a.type in FAMILIES]
        )
    )
    if attribute.type in FAMILIES and draw(st.booleans()):
        return draw(compared_attributes(schema, attribute))
    if attribute.type in BY_FN[Fn.COUNT].takes and draw(st.booleans()):
        return draw(count_conditions(attribute))
    if attribute.type in BY_FN[Fn.ANNIVERSARY].takes and draw(st.booleans()):
        return draw(anniversary_conditions(attribute))
    if attribute.type is AttrType.STRING_LIST and draw(st.booleans()):
        return draw(quantified(attribute))
    if not BY_TYPE[attribute.type] & SECOND_ROUND_OPS:
        return draw(compared_attributes(schema, attribute))
    op = draw(st.sampled_from(sorted(BY_TYPE[attribute.type] & SECOND_ROUND_OPS)))
    return Condition(attribute.key, op, draw(operand(attribute, op)))


@functools.cache
def typed_rules(
    schema: Schema, *, segments: bool = True, second_round: bool = False
) -> st.SearchStrategy[Node]:
    """Typed rules; ``second_round``: of the second round's constructs only. One strategy
    per schema and flags, as a new one is validated (its repr formatted) at its first draw."""
    leaf: st.SearchStrategy[Node] = (
        second_round_conditions(schema) if second_round else conditions(schema)
    )
    if segments:
        leaf = st.one_of(leaf, leaf, leaf, st.sampled_from(SEGMENT_CODES).map(InSegment))
    return st.recursive(leaf, _groups, max_leaves=8)


def _groups(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    pairs = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(pairs.map(And), pairs.map(Or), children.map(Not))


# -- untyped trees, for the round-trip properties ------------------------------------

ATTR_NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: (
        s.upper()
        not in {
            "AND",
            "OR",
            "NOT",
            "IN",
            "IS",
            "NO",
            "YES",
            "ANY",
            "ALL",
            "NONE",
            "WITH",
            "NULL",
            "TRUE",
            "FALSE",
            "TODAY",
            "ENDS",
            "STARTS",
            "BETWEEN",
            "MATCHES",
            "CONTAINS",
            "SEGMENT",
            "TOMORROW",
            "YESTERDAY",
        }
    )
)
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
any_scalars: st.SearchStrategy[Scalar] = st.one_of(
    any_text,
    st.sampled_from(WORDS),
    temporal_literals,
    st.booleans(),
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    st.floats(-1e15, 1e15, allow_nan=False, allow_infinity=False),
    st.floats(-1e-300, 1e-300, allow_nan=False),
)


@st.composite
def any_conditions(draw: st.DrawFn) -> Condition:
    op = draw(st.sampled_from(list(Op)))
    arity = op.arity.value
    value: Any = None
    if arity == "one":
        value = draw(any_scalars)
    elif arity == "pair":
        value = (draw(any_scalars), draw(any_scalars))
    elif arity == "list":
        value = tuple(draw(st.lists(any_scalars, min_size=1, max_size=4)))
    fn = draw(st.sampled_from([None, None, None, *Fn]))
    each = draw(st.sampled_from([None, None, None, *Each])) if fn is None else None
    if op in ATTRIBUTE_OPS and fn is None and each is None and draw(st.integers(0, 4)) == 0:
        value = AttrRef(draw(ATTR_NAMES))
    return Condition(draw(ATTR_NAMES), op, value, fn=fn, each=each)


def any_rules(max_leaves: int = 12) -> st.SearchStrategy[Node]:
    leaf = st.one_of(any_conditions(), any_text.filter(bool).map(InSegment))
    return st.recursive(leaf, _groups, max_leaves=max_leaves)


def deep_not(levels: int) -> Node:
    node: Node = Condition("price", Op.GT, 1)
    for _ in range(min(levels, MAX_DEPTH - 1)):
        node = Not(node)
    return node
