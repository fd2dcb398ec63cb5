"""The rule index: one vectorised pass equals every predicate, and the flips it
finds include every rule a change really flips."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from segmentry.rules.check import SegmentInfo, check
from segmentry.rules.eval_python import compile_predicate
from segmentry.rules.rule_index import RuleIndex
from segmentry.rules.schema import Kind
from segmentry.rules.values import encode, validate
from tests.conftest import examples
from tests.rules.strategies import SCHEMAS, SEGMENT_CODES, entity_values, moments, typed_rules


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(list(Kind)))
    schema = SCHEMAS[kind]
    ctx = draw(moments())
    catalog = {code: SegmentInfo(kind) for code in SEGMENT_CODES}
    rules = [
        check(draw(typed_rules(schema)), schema, segments=catalog)
        for _ in range(draw(st.integers(1, 12)))
    ]
    records = [
        encode(schema, validate(schema, "e", draw(entity_values(schema)), tz=ctx.tz))
        for _ in range(2)
    ]
    member_of = draw(st.fixed_dictionaries({code: st.booleans() for code in SEGMENT_CODES}))
    return {
        "schema": schema,
        "ctx": ctx,
        "rules": rules,
        "records": records,
        "member_of": member_of,
    }


@settings(max_examples=examples(400, 100))
@given(case=cases())
def test_one_pass_equals_every_predicate_and_flips_cover_every_change(case: dict[str, Any]) -> None:
    schema, ctx, member_of = case["schema"], case["ctx"], case["member_of"]
    index = RuleIndex(dict(enumerate(case["rules"])), schema, ctx)
    members = {code: {"e"} if inside else set() for code, inside in member_of.items()}
    predicates = [
        compile_predicate(rule, schema, ctx, members.__getitem__) for rule in case["rules"]
    ]
    old, new = case["records"]
    for record in (old, new):
        expected = [p(record, "e") for p in predicates]
        assert index.holds(record, member_of.__getitem__).tolist() == expected
    really_flipped = {i for i, p in enumerate(predicates) if p(old, "e") != p(new, "e")}
    assert really_flipped <= set(index.flips(old, new).tolist())
    assert set(index.flips(old, old).tolist()) == set()
