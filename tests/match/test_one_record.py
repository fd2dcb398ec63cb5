"""Rules answered from one record (the rule index's re-check of a change): the same
answers as every rule's predicate, at any moment, for any shape of rule, and the
candidates of a change still cover every rule it really flips."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentry.match.eval_python import compile_predicate
from segmentry.match.rule_index import RuleIndex
from segmentry.model.schema import SEGMENTED_KINDS, Kind, Schema
from segmentry.model.temporal import EvalContext
from segmentry.model.values import encode, validate
from segmentry.rules.ast import And, Condition, Node, Not, Or
from segmentry.rules.check import SegmentInfo, check
from segmentry.rules.operators import Op
from tests.conftest import examples
from tests.rules.strategies import (
    SCHEMAS,
    SEGMENT_CODES,
    conditions,
    entity_values,
    moments,
    typed_rules,
)


def literal(schema: Schema) -> st.SearchStrategy[Node]:
    """A condition, a negated one, or a negated OR of conditions (a conjunction too)."""
    one = conditions(schema)
    pairs = st.lists(one, min_size=2, max_size=3).map(lambda items: Not(Or(tuple(items))))
    return st.one_of(one, one, one.map(Not), pairs)


def conjunctions(schema: Schema) -> st.SearchStrategy[Node]:
    """Rules that are conjunctions of conditions, as marketers mostly write them."""
    several = st.lists(literal(schema), min_size=2, max_size=4).map(lambda xs: And(tuple(xs)))
    return st.one_of(literal(schema), several, several.map(lambda r: Not(Not(r))))


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(list(SEGMENTED_KINDS)))
    schema = SCHEMAS[kind]
    catalog = {code: SegmentInfo(kind) for code in SEGMENT_CODES}
    shapes = st.one_of(conjunctions(schema), conjunctions(schema), typed_rules(schema),
                       typed_rules(schema, second_round=True))  # fmt: skip
    rules = [check(draw(shapes), schema, segments=catalog) for _ in range(draw(st.integers(1, 12)))]
    ctx = draw(moments())
    records = [
        encode(schema, validate(schema, "e", draw(entity_values(schema)), tz=ctx.tz))
        for _ in range(2)
    ]
    members = {code: {"e"} if draw(st.booleans()) else set() for code in SEGMENT_CODES}
    # The clock moves under an index; the tenant's time zone does not (it is fixed when
    # the tenant is created, and an index is built for one tenant).
    later = EvalContext(draw(moments()).now, ctx.tz)
    return {
        "schema": schema,
        "rules": rules,
        "records": records,
        "moments": (ctx, later),
        "members": members,
    }


def _predicates(case: dict[str, Any], ctx: Any) -> list[Any]:
    members = case["members"]
    return [compile_predicate(r, case["schema"], ctx, members.__getitem__) for r in case["rules"]]


@settings(max_examples=examples(400, 100))
@given(case=cases())
def test_answers_from_the_record_equal_every_predicate_at_any_moment(
    case: dict[str, Any],
) -> None:
    first, later = case["moments"]
    index = RuleIndex(dict(enumerate(case["rules"])), case["schema"], first)
    conjunctions = np.flatnonzero(index.conjunctive)
    for ctx in (first, later, first):  # the clock moves, and a write may come from the past
        index.ctx = ctx
        predicates = _predicates(case, ctx)
        for record in case["records"]:
            expected = [predicates[i](record, "e") for i in conjunctions.tolist()]
            assert index.answers(conjunctions, record).tolist() == expected


@settings(max_examples=examples(400, 100))
@given(case=cases())
def test_a_recheck_answers_its_candidates_exactly_and_misses_no_flip(
    case: dict[str, Any],
) -> None:
    ctx = case["moments"][0]
    index = RuleIndex(dict(enumerate(case["rules"])), case["schema"], ctx)
    # Whether the re-check or the pass answers is the cost model's choice; make it
    # always the re-check, which must then be exact.
    index.pass_cost = index.candidate_limit = 2**62
    predicates = _predicates(case, ctx)
    old, new = case["records"]
    for before in (old, None):  # a change, and a new entity (every rule is a candidate)
        found = index.recheck(before, new)
        assert found is not None
        answered, others = found.answered.tolist(), found.others.tolist()
        assert found.holds.tolist() == [predicates[i](new, "e") for i in answered]
        assert not set(answered) & set(others)
        assert all(not index.conjunctive[i] for i in others)
        if before is None:
            assert sorted(answered + others) == list(range(len(predicates)))
        else:
            flipped = {i for i, p in enumerate(predicates) if p(old, "e") != p(new, "e")}
            assert flipped <= set(answered) | set(others)


def test_conjunctions_are_recognised_through_negations() -> None:
    schema = SCHEMAS[Kind.PRODUCT]
    price, brand = Condition("price", Op.GT, 1), Condition("brand", Op.EQ, "x")
    shapes = {
        And((price, Not(brand))): True,
        Not(Or((price, brand))): True,
        Not(Not(And((price, brand)))): True,
        Or((price, brand)): False,
        Not(And((price, brand))): False,
        And((price, Or((price, brand)))): False,
    }
    rules = [check(rule, schema) for rule in shapes]
    index = RuleIndex(dict(enumerate(rules)), schema, EvalContext(datetime(2025, 3, 1, tzinfo=UTC)))
    assert index.conjunctive.tolist() == list(shapes.values())


def test_long_and_short_conjunctions_answer_alike_in_one_index() -> None:
    """A conjunction answered by its row of literals (up to eight conditions) and a
    longer one answered literal by literal, side by side, agree with their predicates
    for records that pass or fail each condition in turn."""
    schema = SCHEMAS[Kind.PRODUCT]
    ctx = EvalContext(datetime(2025, 3, 1, tzinfo=UTC))
    bounds = [Condition("price", Op.GT, n) for n in range(9)]
    rules = [
        check(And(tuple(bounds[:8])), schema),
        check(And(tuple(bounds)), schema),
        check(And((bounds[0], Not(Condition("brand", Op.EQ, "x")))), schema),
        check(bounds[3], schema),
    ]
    index = RuleIndex(dict(enumerate(rules)), schema, ctx)
    assert index.plain.tolist() == [True, False, True, True]
    predicates = [compile_predicate(r, schema, ctx) for r in rules]
    everything = np.arange(len(rules))
    for price in (-1, 0.5, 3.5, 7.5, 8.5, 20):
        for brand in ("x", "y"):
            record = encode(schema, validate(schema, "e", {"price": price, "brand": brand}))
            expected = [p(record, "e") for p in predicates]
            assert index.answers(everything, record).tolist() == expected
