"""The rule index: one vectorised pass equals every predicate, and the candidates it
names include every rule a change really flips."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentry.match.columnar import ColumnarTable
from segmentry.match.eval_python import compile_predicate
from segmentry.match.rule_index import RuleIndex
from segmentry.model.schema import SEGMENTED_KINDS
from segmentry.model.temporal import EvalContext
from segmentry.model.values import encode, validate
from segmentry.rules.check import SegmentInfo, check
from segmentry.rules.parser import parse
from segmentry.rules.printer import format_rule
from tests.conftest import examples
from tests.rules.strategies import (
    SCHEMAS,
    SEGMENT_CODES,
    entity_values,
    moments,
    typed_rules,
)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(list(SEGMENTED_KINDS)))
    schema = SCHEMAS[kind]
    ctx = draw(moments())
    catalog = {code: SegmentInfo(kind) for code in SEGMENT_CODES}
    second = typed_rules(schema, second_round=True)  # the new constructs, often
    rules = [
        check(draw(st.one_of(typed_rules(schema), second)), schema, segments=catalog)
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
    candidates = index.candidates(old, new)
    unchanged = index.candidates(old, old)
    assert candidates is not None
    assert unchanged is not None
    assert really_flipped <= set(candidates.tolist())
    assert set(unchanged.tolist()) == set()
    # Rules that triage sets aside cannot hold for the new record.
    _, cannot = index.triage(np.arange(len(predicates)), new)
    assert not any(predicates[i](new, "e") for i in cannot.tolist())


MOVING = ("-1h", "-7d", "-30d", "+2d", "today", "yesterday", "tomorrow", "-1w", "-1m")


@st.composite
def moving_cases(draw: st.DrawFn) -> dict[str, Any]:
    """Rules with time-moving conditions, and two records that differ in the values
    those conditions test (or lose them), near the moment and the last sweep."""
    case = draw(cases())
    schema = case["schema"]
    key = draw(st.sampled_from(["c_dt", "c_date"]))
    extra = case["rules"][: draw(st.integers(0, 3))]
    subjects = [key, key, f"anniversary({key})"]  # anniversaries move with every day
    texts = [
        f"{draw(st.sampled_from(subjects))} "
        f"{draw(st.sampled_from(['<', '<=', '>', '>=', '=', '!=']))} "
        f"'{draw(st.sampled_from(MOVING))}'"
        for _ in range(draw(st.integers(1, 6)))
    ]
    hows = [draw(st.sampled_from(["", "AND", "OR"])) for _ in extra]
    joined = list(zip(texts, hows, extra, strict=False))
    timed = [parse(t) for t in texts[len(joined) :]]
    timed += [parse(f"{t} {how} ({format_rule(r)})" if how else t) for t, how, r in joined]
    records = [{**record, key: None} for record in case["records"]]
    tz = case["ctx"].tz
    for record in records:
        if draw(st.integers(0, 9)):  # a value some hours around the moment, or missing
            at = case["ctx"].now - timedelta(hours=draw(st.integers(-72, 24 * 70)))
            at -= timedelta(days=365 * draw(st.sampled_from([0, 0, 1, 30])))  # a birthday
            raw = at.date().isoformat() if key == "c_date" else at.isoformat()
            record[key] = encode(schema, validate(schema, "e", {key: raw}, tz=tz))[key]
    catalog = {code: SegmentInfo(schema.kind) for code in SEGMENT_CODES}
    case["rules"] = [check(r, schema, segments=catalog) for r in timed] + case["rules"]
    case["records"] = records
    return case


@settings(max_examples=examples(200, 100))
@given(
    case=moving_cases(),
    back=st.integers(0, 24 * 40).map(lambda hours: timedelta(hours=hours)),
)
def test_flips_since_the_last_sweep_leave_no_stale_answer(
    case: dict[str, Any], back: timedelta
) -> None:
    """A write between two sweeps: kept answers of time-moving rules may be those of
    the last sweep (``since``). A rule the change does not name must keep an answer
    the next sweep can still correct: the new record's answer now, or at ``since``
    (the sweep then looks at its value, as for any record it did not see change)."""
    schema, ctx, member_of = case["schema"], case["ctx"], case["member_of"]
    since = EvalContext(ctx.now - back, ctx.tz)
    index = RuleIndex(dict(enumerate(case["rules"])), schema, ctx)
    index.since = since
    members = {code: {"e"} if inside else set() for code, inside in member_of.items()}
    now_tests = [compile_predicate(r, schema, ctx, members.__getitem__) for r in case["rules"]]
    then_tests = [compile_predicate(r, schema, since, members.__getitem__) for r in case["rules"]]
    old, new = case["records"]
    named = index.candidates(old, new)
    assert named is not None
    for rule in set(range(len(now_tests))) - set(named.tolist()):
        kept = then_tests[rule](old, "e")
        assert kept in (now_tests[rule](new, "e"), then_tests[rule](new, "e"))


@st.composite
def shared_cases(draw: st.DrawFn) -> dict[str, Any]:
    """Rules made of a few rules' conditions again and again (within a rule too, and
    negated), as a thousand segments share some six hundred conditions; and records."""
    case = draw(cases())
    pool = [format_rule(r) for r in case["rules"][:4]]
    texts = []
    for _ in range(draw(st.integers(2, 10))):
        parts = [f"({draw(st.sampled_from(pool))})" for _ in range(draw(st.integers(1, 3)))]
        parts = [f"NOT {p}" if draw(st.booleans()) else p for p in parts]
        texts.append(f" {draw(st.sampled_from(['AND', 'OR']))} ".join(parts))
    catalog = {code: SegmentInfo(case["schema"].kind) for code in SEGMENT_CODES}
    case["rules"] = [check(parse(t), case["schema"], segments=catalog) for t in texts]
    schema, tz = case["schema"], case["ctx"].tz
    case["records"] += [
        encode(schema, validate(schema, "e", draw(entity_values(schema)), tz=tz))
        for _ in range(draw(st.integers(0, 4)))
    ]
    return case


@settings(max_examples=examples(300, 100))
@given(case=shared_cases())
def test_a_pass_over_shared_conditions_equals_every_predicate(case: dict[str, Any]) -> None:
    """The pass fills one row per distinct condition, which every rule holding it reads:
    its answers are still each rule's own, row by row."""
    schema, ctx, member_of = case["schema"], case["ctx"], case["member_of"]
    index = RuleIndex(dict(enumerate(case["rules"])), schema, ctx)
    assert index.row_count <= index.leaf_count
    members = {code: {"e"} if inside else set() for code, inside in member_of.items()}
    predicates = [compile_predicate(r, schema, ctx, members.__getitem__) for r in case["rules"]]
    table = ColumnarTable(schema)
    for seq, record in enumerate(case["records"]):
        table.put(seq, record)
    rows = np.arange(len(case["records"]))
    holds = index.holds(table, rows, lambda code: np.full(len(rows), member_of[code]))
    for row, record in enumerate(case["records"]):
        assert holds[row].tolist() == [p(record, "e") for p in predicates]
