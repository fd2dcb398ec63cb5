"""Relative times in the exported SQL, run in DuckDB and PostgreSQL on the day the test
runs, for tenants in zones far from UTC: ``-30d`` on a date is the day 30 days before
today in the tenant's zone, on a date-time the same wall-clock time 30 days ago there;
``today`` on a date-time is that day from its midnight to the next in the zone; hours are
exact durations. Values sit on both sides of each bound (a microsecond from a day's
midnight, a minute and a half from a moving moment), and the members must be exactly
segmentry's (the Python evaluator is the oracle), the negation exactly the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlglot
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from segmentry.errors import ConversionError
from segmentry.model import temporal
from segmentry.model.schema import Kind, Schema
from segmentry.model.temporal import EvalContext
from segmentry.rules.check import check
from segmentry.rules.convert import sql
from segmentry.rules.parser import parse
from tests.conftest import examples
from tests.rules.convert_oracle import build_shop
from tests.rules.test_convert_sql import _Postgres, check_dialect

duckdb = pytest.importorskip("duckdb", reason="duckdb is a dev dependency: pip install -e .[dev]")

ZONES = ["Pacific/Kiritimati", "America/Santiago", "Pacific/Pago_Pago", "Australia/Lord_Howe",
         "Pacific/Chatham", "Europe/Madrid", "UTC"]  # fmt: skip
"""+14 and -11 (one of them is on another day than UTC at every hour), Chile's and Lord
Howe's half-hour daylight saving changes, Madrid's."""
SCHEMA = Schema(Kind.CUSTOMER)
DATES, DATETIMES = ("birthday",), ("created_at", "last_order_at")
OPS = ["=", "!=", "<", "<=", ">", ">="]
relative = st.one_of(
    st.sampled_from(["today", "yesterday", "tomorrow", "-30d", "-90d", "+7d", "-6m", "-1y"]),
    st.tuples(st.sampled_from("-+"), st.integers(0, 200), st.sampled_from("hdwmy")).map(
        lambda t: f"{t[0]}{t[1]}{t[2]}"
    ),
)
MARGINS = [-3_600_000_000, -90_000_000, 90_000_000, 3_600_000_000]
"""Around a moving moment: wide enough for the warehouse's clock to read a little later."""
DAY_EDGES = [-1, 0, 1, 43_200_000_000]
"""Around a day's first moment in the tenant's zone: a microsecond either side, noon."""


@st.composite
def conditions(draw: st.DrawFn) -> str:
    attr = draw(st.sampled_from(DATES + DATETIMES))
    if draw(st.integers(0, 4)) == 0:
        low, high = draw(relative), draw(relative)
        return f"{attr} {draw(st.sampled_from(['BETWEEN', 'NOT BETWEEN']))} {low} AND {high}"
    return f"{attr} {draw(st.sampled_from(OPS))} {draw(relative)}"


@st.composite
def zone_cases(draw: st.DrawFn) -> dict[str, Any]:
    """A zone, a rule of one to three relative conditions, and for each entity the
    literal its values sit near (by index) with the step from that bound."""
    parts = draw(st.lists(conditions(), min_size=1, max_size=3))
    joiner = draw(st.sampled_from([" AND ", " OR "]))
    text = joiner.join(f"({p})" for p in parts)
    if draw(st.booleans()):
        text = f"NOT ({text})"
    anchor = st.tuples(st.integers(0, 99), st.integers(0, 3), st.integers(-400, 400))
    entities = draw(st.lists(st.dictionaries(st.sampled_from(DATES + DATETIMES), anchor),
                             min_size=2, max_size=12))  # fmt: skip
    return {"zone": draw(st.sampled_from(ZONES)), "rule": text, "entities": entities}


def _literals(text: str) -> list[temporal.Temporal]:
    words = text.replace("(", " ").replace(")", " ").split()
    found = [temporal.read_temporal(w) for w in words if w not in ("AND", "OR", "NOT")]
    return [t for t in found if t is not None]


def _value(attr: str, literal: temporal.Temporal, step: int, days: int, ctx: EvalContext) -> str:
    """A value of ``attr`` next to the bound ``literal`` stands for at ``ctx``."""
    if attr in DATES:
        day = temporal.as_day(literal, ctx) + timedelta(days=(step - 1) if days % 3 else days)
        return max(min(day, date(9998, 1, 1)), date(1000, 1, 1)).isoformat()
    if isinstance(literal, temporal.Relative):
        micros = temporal.as_instant(literal, ctx) + MARGINS[step]
    else:
        micros = temporal.day_start(temporal.as_day(literal, ctx), ctx.tz) + DAY_EDGES[step]
    return temporal.from_micros(micros).isoformat().replace("+00:00", "Z")


def shop_of(case: dict[str, Any], ctx: EvalContext) -> list[dict[str, Any]]:
    literals = _literals(case["rule"])

    def values(entity: dict[str, tuple[int, int, int]]) -> dict[str, Any]:
        return {attr: _value(attr, literals[index % len(literals)], step, days, ctx)
                for attr, (index, step, days) in entity.items()}  # fmt: skip

    return [{}, *(values(entity) for entity in case["entities"])]


@pytest.fixture(scope="module")
def warehouses(pg_url: str) -> Iterator[dict[str, Any]]:
    duck = duckdb.connect()
    duck.execute("SET TimeZone = 'America/New_York'")  # the session's zone plays no part
    postgres = _Postgres(pg_url)
    postgres.execute("SET TIME ZONE 'Asia/Tokyo'")
    yield {"duckdb": duck, "postgres": postgres}
    duck.close()
    postgres.conn.close()


@settings(
    max_examples=examples(300, 60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(case=zone_cases(), dialect=st.sampled_from(["duckdb", "postgres"]))
def test_relative_times_select_exactly_segmentrys_members_in_the_tenants_zone(
    case: dict[str, Any], dialect: str, warehouses: dict[str, Any]
) -> None:
    ctx = EvalContext(datetime.now(UTC), ZoneInfo(case["zone"]))
    rule = check(parse(case["rule"]), SCHEMA)
    shop = build_shop(SCHEMA, shop_of(case, ctx), ctx)
    check_dialect(warehouses[dialect], dialect, {"schema": SCHEMA, "ctx": ctx, "shop": shop}, rule)
    event(f"{dialect} {case['zone']}")


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "America/Santiago", "Pacific/Pago_Pago"])
@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_date_times_near_midnight_in_the_tenants_zone(
    zone: str, dialect: str, warehouses: dict[str, Any]
) -> None:
    """Every relative literal the issue names, against date-times a microsecond from the
    midnights around today in the zone, and the same wall-clock times days ago."""
    tz = ZoneInfo(zone)
    ctx = EvalContext(datetime.now(UTC), tz)
    today = ctx.now.astimezone(tz).date()
    raw: list[dict[str, Any]] = [{}]
    for n in range(-95, 3):
        start = temporal.day_start(today + timedelta(days=n), tz)
        for edge in (-1, 0, 1):
            moment = temporal.from_micros(start + edge).isoformat()
            raw.append({"created_at": moment, "birthday": (today + timedelta(days=n)).isoformat()})
        then = temporal.as_instant(temporal.Relative(n, "d"), ctx)
        raw += [{"last_order_at": temporal.from_micros(then + margin).isoformat()}
                for margin in (-90_000_000, 90_000_000)]  # fmt: skip
    shop = build_shop(SCHEMA, raw, ctx)
    case = {"schema": SCHEMA, "ctx": ctx, "shop": shop}
    for text in ["birthday > -30d", "birthday = -30d", "last_order_at > -90d",
                 "last_order_at <= -30d", "created_at = today", "created_at = yesterday",
                 "created_at >= -1d", "created_at < tomorrow", "birthday = today",
                 "birthday BETWEEN yesterday AND +1d", "created_at BETWEEN -2d AND today",
                 "birthday = -20h", "last_order_at > -36h", "birthday >= -3m"]:  # fmt: skip
        check_dialect(warehouses[dialect], dialect, case, check(parse(text), SCHEMA))


def test_sqlite_knows_no_zone_but_utc_so_relative_days_elsewhere_are_refused() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    for text, literal in [("birthday > -30d", "-30d"), ("created_at = today", "today"),
                          ("birthday = -2h", "-2h")]:  # fmt: skip
        with pytest.raises(ConversionError) as raised:
            sql.write(check(parse(text), SCHEMA), SCHEMA, dialect="sqlite", tz=madrid)
        assert raised.value.construct == f"relative time {literal!r} in SQLite"
    hours = sql.write(check(parse("created_at > -2h"), SCHEMA), SCHEMA, dialect="sqlite", tz=madrid)
    assert "'-2 hours'" in hours  # a duration: the same in every zone
    for dialect in ("postgres", "duckdb", "bigquery", "snowflake"):
        clause = sql.write(check(parse("birthday > -30d AND created_at = yesterday AND "
                                       "last_order_at > -6m"), SCHEMA),
                           SCHEMA, dialect=dialect, tz=madrid)  # fmt: skip
        assert "'Europe/Madrid'" in clause, dialect
        sqlglot.parse_one(f"SELECT id FROM customers WHERE {clause}", read=dialect)


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
@pytest.mark.parametrize(
    ("wall", "zone"),
    [("2026-04-04 23:30:00", "America/Santiago"), ("2026-09-06 00:30:00", "America/Santiago"),
     ("2026-04-05 00:00:00", "America/Santiago"), ("2026-11-01 01:30:00", "America/New_York"),
     ("2026-03-08 02:30:00", "America/New_York"), ("2026-04-05 01:45:00", "Australia/Lord_Howe"),
     ("2026-10-04 02:15:00", "Australia/Lord_Howe"), ("2026-12-06 00:00:00", "Pacific/Kiritimati")],
)  # fmt: skip
def test_a_wall_clock_time_is_the_moment_segmentry_reads(
    wall: str, zone: str, dialect: str, warehouses: dict[str, Any]
) -> None:
    """A time the clocks repeat is its first occurrence and one they skip takes the offset
    before the change, as ``zoneinfo`` reads it (the warehouses alone take the second)."""
    from sqlglot import exp

    from segmentry.rules.convert import sql_targets, sql_zone

    target = sql_targets.target_of(dialect)
    moment = sql_zone.local_instant(target, exp.cast(exp.Literal.string(wall), "DATETIME"), zone)
    query = f"SELECT {moment.sql(dialect=dialect)}"
    (found,) = warehouses[dialect].execute(query).fetchone()
    expected = datetime.fromisoformat(wall).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    assert found.astimezone(UTC) == expected, query
