"""The differential property: every evaluator selects exactly the same entities.

Python, SQL (SQLite and PostgreSQL) and columnar (Polars).

Typed rules over entities with missing values, Unicode, decimals, dates and
date-times in many time zones; the Python predicate, SQLite and PostgreSQL
must return identical member sets, and ``rows(p)`` and ``rows(NOT p)`` must
partition all rows in each.

Rules with behaviour functions run over generated shops with orders
(``tests/match/behaviour_cases.py``); each evaluator must select exactly what
the test's own count of the orders selects.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from segmentry.match.columnar import ColumnarTable
from segmentry.match.eval_columnar import compile_columnar, select
from segmentry.match.eval_python import compile_predicate
from segmentry.model.schema import SEGMENTED_KINDS, Kind, Schema
from segmentry.model.temporal import EvalContext
from segmentry.model.values import encode, validate
from segmentry.rules.ast import Node, Not, Or
from segmentry.rules.check import SegmentInfo, check
from tests.conftest import examples
from tests.match.behaviour_cases import Shop, expected, probes, rules, shops
from tests.match.order_harness import OrderDb
from tests.match.order_memory import InMemory
from tests.match.sql_harness import SqlHarness, sqlite_engine
from tests.rules.strategies import (
    SCHEMAS,
    SEGMENT_CODES,
    ZONES,
    anniversary_conditions,
    entity_values,
    moments,
    typed_rules,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def sqlite_db() -> SqlHarness:
    return SqlHarness(sqlite_engine())


@pytest.fixture(scope="module")
def postgres_db(pg_url: str) -> Iterator[SqlHarness]:
    engine = sa.create_engine(pg_url)
    yield SqlHarness(engine)
    engine.dispose()


@st.composite
def cases(draw: st.DrawFn, *, second_round: bool = False) -> dict[str, Any]:
    kind = draw(st.sampled_from(list(SEGMENTED_KINDS)))
    schema = SCHEMAS[kind]
    ctx = draw(moments())
    raw = draw(st.lists(entity_values(schema), min_size=2, max_size=12))
    records = []
    for number, values in enumerate(raw):
        entity_id = f"e{number}"
        records.append((entity_id, encode(schema, validate(schema, entity_id, values, tz=ctx.tz))))
    ids = [entity_id for entity_id, _ in records]
    members = {code: set(draw(st.lists(st.sampled_from(ids)))) if ids else set()
               for code in SEGMENT_CODES}  # fmt: skip
    rule = draw(typed_rules(schema, second_round=second_round))
    return {"schema": schema, "ctx": ctx, "records": records, "members": members, "rule": rule}


def columnar_select(case: dict[str, Any], rule: Node) -> set[str]:
    """Rows are seqs: entity ``e{n}`` is row n, so memberships map straight to rows."""
    table = ColumnarTable(case["schema"])
    for number, (_, record) in enumerate(case["records"]):
        table.put(number, record)
    members = {code: BitMap(int(i[1:]) for i in ids) for code, ids in case["members"].items()}
    expr = compile_columnar(rule, table, case["ctx"], members.__getitem__)
    return {f"e{row}" for row in select(table, expr)}


def python_select(case: dict[str, Any], rule: Node) -> set[str]:
    members = case["members"]
    predicate = compile_predicate(rule, case["schema"], case["ctx"], members.__getitem__)
    return {entity_id for entity_id, record in case["records"] if predicate(record, entity_id)}


def checked(case: dict[str, Any]) -> Node:
    catalog = {code: SegmentInfo(case["schema"].kind) for code in SEGMENT_CODES}
    return check(case["rule"], case["schema"], segments=catalog)


@settings(max_examples=examples(2000, 150))
@given(case=cases())
def test_python_sqlite_and_postgres_select_the_same_members(
    case: dict[str, Any], sqlite_db: SqlHarness, postgres_db: SqlHarness
) -> None:
    assert_all_agree(case, sqlite_db, postgres_db)


@settings(max_examples=examples(500, 100))
@given(case=cases(second_round=True))
def test_the_second_rounds_constructs_select_the_same_members_everywhere(
    case: dict[str, Any], sqlite_db: SqlHarness, postgres_db: SqlHarness
) -> None:
    """Rules made only of the constructs added in the second round meet them often."""
    assert_all_agree(case, sqlite_db, postgres_db)


def assert_all_agree(case: dict[str, Any], sqlite_db: SqlHarness, postgres_db: SqlHarness) -> None:
    rule = checked(case)
    everyone = {entity_id for entity_id, _ in case["records"]}
    schema: Schema = case["schema"]
    ctx: EvalContext = case["ctx"]
    expected = python_select(case, rule)
    event(
        "selects some but not all" if expected and expected != everyone else "selects none or all"
    )
    for db in (sqlite_db, postgres_db):
        db.load(case["records"], case["members"])
        assert db.select(rule, schema, ctx) == expected, db.engine.dialect.name
        assert db.select(Not(rule), schema, ctx) == everyone - expected, db.engine.dialect.name
    assert python_select(case, Not(rule)) == everyone - expected
    assert columnar_select(case, rule) == expected
    assert columnar_select(case, Not(rule)) == everyone - expected


ANNIVERSARY_TODAYS = [date(2026, 12, 28), date(2026, 12, 31), date(2027, 1, 1), date(2027, 2, 28),
                      date(2028, 2, 28), date(2028, 2, 29), date(2027, 3, 1),
                      date(2028, 3, 1)]  # fmt: skip
"""Days around the year end and 29 February, in leap and other years."""
BIRTH_DAYS = ["1980-02-29", "2000-02-28", "1999-03-01", "1990-12-31", "1990-01-01", "1985-01-02",
              "1970-12-29", "1969-12-28", "2024-02-29", "1000-03-01", "9998-12-31"]  # fmt: skip
BIRTH_TIMES = ["T00:00:00", "T23:59:59.999999", "T12:00:00Z", "T23:30:00-03:00", "T00:30:00+05:30"]


@st.composite
def anniversary_cases(draw: st.DrawFn) -> dict[str, Any]:
    schema = SCHEMAS[Kind.CUSTOMER]
    today = draw(st.sampled_from(ANNIVERSARY_TODAYS))
    tz = ZoneInfo(draw(st.sampled_from(ZONES)))
    hour = draw(st.sampled_from([0, 1, 12, 23]))
    ctx = EvalContext(datetime(today.year, today.month, today.day, hour, tzinfo=tz), tz)
    records = []
    for number in range(draw(st.integers(2, 12))):
        values: dict[str, Any] = {}
        if draw(st.integers(0, 5)):
            values["c_date"] = draw(st.sampled_from(BIRTH_DAYS))
        if draw(st.integers(0, 5)):
            values["c_dt"] = draw(st.sampled_from(BIRTH_DAYS)) + draw(st.sampled_from(BIRTH_TIMES))
        entity_id = f"e{number}"
        records.append((entity_id, encode(schema, validate(schema, entity_id, values, tz=tz))))
    attribute = schema.by_key[draw(st.sampled_from(["c_date", "c_dt"]))]
    rule = draw(st.lists(anniversary_conditions(attribute), min_size=1, max_size=2))
    node = rule[0] if len(rule) == 1 else Or(tuple(rule))
    return {"schema": schema, "ctx": ctx, "records": records, "members": {}, "rule": node}


@settings(max_examples=examples(500, 150))
@given(case=anniversary_cases())
def test_anniversaries_select_the_same_members_everywhere(
    case: dict[str, Any], sqlite_db: SqlHarness, postgres_db: SqlHarness
) -> None:
    """Across the year end and 29 February, for dates and date-times in many zones."""
    assert_all_agree(case, sqlite_db, postgres_db)


# -- behaviour functions -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_shop() -> OrderDb:
    return OrderDb(sqlite_engine())


@pytest.fixture(scope="module")
def postgres_shop(pg_url: str) -> Iterator[OrderDb]:
    engine = sa.create_engine(pg_url)
    db = OrderDb(engine)
    yield db
    with engine.begin() as conn:
        db.clear(conn)
    engine.dispose()


@st.composite
def behaviour_cases(draw: st.DrawFn) -> tuple[Shop, Kind, Node]:
    shop = draw(shops())
    kind = draw(st.sampled_from([Kind.CUSTOMER, Kind.PRODUCT]))
    return shop, kind, draw(rules(kind, shop))


@settings(
    max_examples=examples(1000, 150),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=behaviour_cases())
def test_behaviour_functions_select_what_the_orders_say_everywhere(
    case: tuple[Shop, Kind, Node], sqlite_shop: OrderDb, postgres_shop: OrderDb
) -> None:
    shop, kind, rule = case
    everyone = {e.seq for e in shop.living(kind).values()}
    want = expected(rule, kind, shop)
    event("selects some but not all" if want and want != everyone else "selects none or all")
    for db in (sqlite_shop, postgres_shop):
        db.load(shop)
    memory = InMemory(shop)
    evaluators = {
        "sqlite": lambda node: sqlite_shop.select(node, kind, shop),
        "postgresql": lambda node: postgres_shop.select(node, kind, shop),
        "python": lambda node: memory.python(node, kind),
        "columnar": lambda node: memory.columnar(node, kind),
    }
    for name, members in evaluators.items():
        assert members(rule) == want, name
        assert members(Not(rule)) == everyone - want, name
    for probe in probes(kind, shop):
        want = expected(probe, kind, shop)
        for name, members in evaluators.items():
            assert members(probe) == want, (name, probe)
