"""The rule index: one vectorised pass equals every predicate, and the flips it
finds include every rule a change really flips."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentry.rules.check import SegmentInfo, check
from segmentry.rules.columnar import ColumnarTable
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
    predicates = [compile_predicate(r, schema, ctx, members.__getitem__) for r in case["rules"]]
    old, new = case["records"]
    table = ColumnarTable(schema)
    table.put(1, old)
    table.put(2, new)
    holds = index.holds(table, np.array([1, 2]), lambda code: np.full(2, member_of[code]))
    for row, record in enumerate((old, new)):
        assert holds[row].tolist() == [p(record, "e") for p in predicates]
    really_flipped = {i for i, p in enumerate(predicates) if p(old, "e") != p(new, "e")}
    flips = index.flips(old, new)
    unchanged = index.flips(old, old)
    assert flips is not None
    assert unchanged is not None
    assert really_flipped <= set(flips.tolist())
    assert set(unchanged.tolist()) == set()
    # Rules that triage sets aside cannot hold for the new record.
    _, cannot = index.triage(np.arange(len(predicates)), new)
    assert not any(predicates[i](new, "e") for i in cannot.tolist())
