"""Golden rules: canonical text, JSON form and members, with SQL run as an oracle.

Each case of products.golden and customers.golden is parsed and checked; its
canonical text and JSON must be exactly as written, and the members must be
the hand-worked ones in the Python evaluator, SQLite and PostgreSQL alike.
errors.golden pins what each mistake says and where.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from segmentry.errors import RuleError
from segmentry.match.eval_python import compile_predicate
from segmentry.model.schema import SEGMENTED_KINDS, Kind
from segmentry.rules.check import SegmentInfo
from segmentry.rules.jsonform import from_json
from segmentry.rules.load import prepare
from segmentry.rules.parser import parse
from segmentry.rules.printer import format_rule
from tests.match.sql_harness import SqlHarness, sqlite_engine
from tests.rules.golden_files import Case, Fixture, load_fixture, read_cases

FIXTURE = load_fixture()
MEMBER_CASES = [(Kind.PRODUCT, c) for c in read_cases("products.golden")] + [
    (Kind.CUSTOMER, c) for c in read_cases("customers.golden")
]
ERROR_CASES = read_cases("errors.golden")
IDS = [case.id for _, case in MEMBER_CASES]


@pytest.fixture(scope="module")
def sqlite_db() -> SqlHarness:
    return SqlHarness(sqlite_engine())


@pytest.fixture(scope="module")
def postgres_db(pg_url: str) -> Iterator[SqlHarness]:
    engine = sa.create_engine(pg_url)
    yield SqlHarness(engine)
    engine.dispose()


def expected_members(case: Case) -> set[str]:
    listed = case.one("members").split()
    return set() if listed == ["-"] else set(listed)


def python_members(fixture: Fixture, kind: Kind, case: Case) -> set[str]:
    rule = prepare(case.one("rule"), fixture.schemas[kind], segments=fixture.segments).tree
    members = fixture.members.__getitem__
    predicate = compile_predicate(rule, fixture.schemas[kind], fixture.ctx, members)
    return {i for i, record in fixture.records[kind] if predicate(record, i)}


@pytest.mark.parametrize(("kind", "case"), MEMBER_CASES, ids=IDS)
def test_canonical_text_and_json(kind: Kind, case: Case) -> None:
    checked = prepare(case.one("rule"), FIXTURE.schemas[kind], segments=FIXTURE.segments)
    assert checked.text == case.one("text", case.one("rule"))
    assert checked.json == json.loads(case.one("json"))
    assert parse(checked.text) == checked.tree
    assert from_json(checked.json) == checked.tree


@pytest.mark.parametrize(("kind", "case"), MEMBER_CASES, ids=IDS)
def test_members_in_python(kind: Kind, case: Case) -> None:
    assert python_members(FIXTURE, kind, case) == expected_members(case)


@pytest.mark.parametrize(
    "dialect", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_members_in_sql(dialect: str, request: pytest.FixtureRequest) -> None:
    db: SqlHarness = request.getfixturevalue("sqlite_db" if dialect == "sqlite" else "postgres_db")
    for kind in SEGMENTED_KINDS:
        db.load(FIXTURE.records[kind], FIXTURE.members)
        for case_kind, case in MEMBER_CASES:
            if case_kind is not kind:
                continue
            rule = prepare(case.one("rule"), FIXTURE.schemas[kind], segments=FIXTURE.segments).tree
            assert db.select(rule, FIXTURE.schemas[kind], FIXTURE.ctx) == expected_members(case), (
                case.id
            )


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c.id for c in ERROR_CASES])
def test_errors_say_what_and_where(case: Case) -> None:
    kind = Kind(case.one("kind", "product"))
    own = case.one("own") or None
    segments = dict(FIXTURE.segments)
    if own == "loop_b":
        segments.update({"a": SegmentInfo(Kind.CUSTOMER, ("loop_b",)),
                         "loop_b": SegmentInfo(Kind.CUSTOMER, ("a",))})  # fmt: skip
    with pytest.raises(RuleError) as caught:
        prepare(case.one("rule"), FIXTURE.schemas[kind], segments=segments, own_code=own)
    got = [
        f"{d.line}:{d.column} {d.message}" + (f" | {d.hint}" if d.hint else "")
        for d in caught.value.diagnostics
    ]
    assert got == case.fields["error"]


def test_every_operator_and_literal_form_has_a_golden_case() -> None:
    from segmentry.rules.ast import conditions
    from segmentry.rules.operators import Op

    texts = [case.one("rule") for _, case in MEMBER_CASES]
    ops = {c.op for t in texts for c in conditions(parse(t))}
    assert ops == set(Op)
    joined = " ".join(texts)
    for literal in ("today", "yesterday", "tomorrow", "-30d", "+2w", "-6M", "-1y", "-12h",
                    "30_days_ago", "4_weeks_ago", "12_months_ago", "1_years_ago", "7_days_ago",
                    "2024-03-01", "T13:00+01:00", "Z", "yes", "NO", "true", '"', "\\'", "100.0",
                    "-1", "IN SEGMENT", "NOT"):  # fmt: skip
        assert literal in joined, literal
    assert format_rule(parse(texts[0])) == texts[0]


def test_json_shape_errors_name_the_path() -> None:
    schema = FIXTURE.schemas[Kind.PRODUCT]
    bad = {"and": [{"attr": "price", "op": ">", "value": 1}, {"attr": "price", "op": "greater"}]}
    with pytest.raises(RuleError, match=r"at rule\.and\[1\]\.op: 'greater' is not an operator"):
        prepare(bad, schema)
    with pytest.raises(RuleError, match=r"at rule\.value: between takes a list of two values"):
        prepare({"attr": "price", "op": "between", "value": [1]}, schema)


def test_type_errors_of_a_json_rule_point_into_its_canonical_text() -> None:
    schema = FIXTURE.schemas[Kind.PRODUCT]
    with pytest.raises(RuleError) as caught:
        prepare(
            {
                "and": [
                    {"attr": "brand", "op": "=", "value": "x"},
                    {"attr": "prce", "op": ">", "value": 1},
                ]
            },
            schema,
        )
    assert caught.value.text == "brand = 'x' AND prce > 1"
    assert (caught.value.diagnostics[0].line, caught.value.diagnostics[0].column) == (1, 17)


@pytest.mark.parametrize(("kind", "case"), MEMBER_CASES, ids=IDS)
def test_members_in_columnar(kind: Kind, case: Case) -> None:
    from pyroaring import BitMap

    from segmentry.match.columnar import ColumnarTable
    from segmentry.match.eval_columnar import compile_columnar, select

    table = ColumnarTable(FIXTURE.schemas[kind])
    rows = {entity_id: n for n, (entity_id, _) in enumerate(FIXTURE.records[kind])}
    for entity_id, record in FIXTURE.records[kind]:
        table.put(rows[entity_id], record)
    members = {c: BitMap(rows[i] for i in ids if i in rows) for c, ids in FIXTURE.members.items()}
    rule = prepare(case.one("rule"), FIXTURE.schemas[kind], segments=FIXTURE.segments).tree
    found = select(table, compile_columnar(rule, table, FIXTURE.ctx, members.__getitem__))
    names = {n: i for i, n in rows.items()}
    assert {names[r] for r in found} == expected_members(case)
