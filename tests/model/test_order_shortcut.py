"""``validate_order``'s shortcut for orders of the usual shape gives exactly what the
checks made one by one give: the same order (the same types, the same spelling of
``placed_at``, the same decimals) or, when the order is wrong, the same problems."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from segmentry.errors import ValidationError
from segmentry.model.orders import checked_order, validate_order
from segmentry.model.schema import Kind, Schema
from tests.conftest import examples

SCHEMA = Schema(Kind.ORDER)
IDS = ["o1", "p-17", "", " p1", "p1 ", "a\x00b", "x" * 255, "x" * 256, 17, None, "\ud800", "é"]
INSTANTS = ["2025-03-29T12:00:00Z", "2025-02-30T12:00:00Z", "0999-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z", "2024-12-31T23:59:60Z", "2025-03-29T24:00:00Z",
            " 2025-03-29T12:00:00Z", "2025-03-29T12:00:00.5Z", "2025-03-29T12:00:00",
            "2025-03-29T12:00:00+02:00", "2025-03-29", "", None, 17,
            "\uff12\uff10\uff12\uff15-03-29T12:00:00Z"]  # fmt: skip
PRICES = [0, 1, 26.51, 49.94, 17.4, 0.0, -0.0, -1.5, 1e6, 1e6 + 0.01, 1e-7, 0.1234567,
          1.5e-6, float("nan"), float("inf"), True, "12.50", "abc", None, Decimal("2.5"),
          10**6, 10**6 + 1]  # fmt: skip
QUANTITIES = [1, 2, 0, -1, 10**6, 10**6 + 1, 2.0, 2.5, "3", True, None]


def _mostly(good: list[Any], every: list[Any]) -> st.SearchStrategy[Any]:
    """Values of the usual shape four times in five (the shortcut's), any other else."""
    return st.one_of(*[st.sampled_from(good)] * 4, st.sampled_from(every))


line = st.fixed_dictionaries(
    {"product_id": _mostly(["p1", "é"], IDS), "quantity": _mostly([1, 3], QUANTITIES),
     "unit_price": _mostly([26.51, 17.4, 3, 0.1, 0.0], PRICES)},
)  # fmt: skip
lines = st.one_of(*[line] * 5, line.map(lambda ln: {**ln, "extra": 1}), st.just({}))
usual = st.fixed_dictionaries(
    {"placed_at": _mostly([*INSTANTS[:1], "2024-02-29T23:59:59Z"], INSTANTS),
     "lines": st.one_of(*[st.lists(lines, min_size=1, max_size=3)] * 6,
                        st.sampled_from(["x", (), []]))},
    optional={"id": st.sampled_from(["o1", "o1", "o1", "o2"]), "customer_id": _mostly(["c1"], IDS),
              "status": st.sampled_from(["placed", "Cancelled", "gone", None]),
              "channel": st.sampled_from(["web", "", 3, None]),
              "total": _mostly([50, 12.5], PRICES)},
)  # fmt: skip
orders = st.one_of(
    *[usual] * 4,
    usual.map(lambda order: {**order, "attributes": {}}),
    usual.map(lambda order: {**order, "colour": 1}),
)


def _outcome(check: Any, order_id: object, values: dict[str, Any], tz: Any) -> Any:
    try:
        return check(SCHEMA, order_id, values, tz=tz)
    except ValidationError as exc:
        return ("refused", exc.problems)


@settings(max_examples=examples(2000, 600), deadline=None)
@given(_mostly(["o1"], IDS[:6]), orders, st.sampled_from([UTC, ZoneInfo("Europe/Paris")]))
def test_the_shortcut_equals_the_checks(order_id: object, values: dict[str, Any], tz: Any) -> None:
    got, want = (
        _outcome(validate_order, order_id, values, tz),
        _outcome(checked_order, order_id, values, tz),
    )
    assert got == want
    if not isinstance(want, tuple):  # the same types too (1 and 1.0 are equal)
        assert [type(x) for x in (got.placed_at, got.total, got.customer_id)] == [
            type(x) for x in (want.placed_at, want.total, want.customer_id)
        ]
        for a, b in zip(got.lines, want.lines, strict=True):
            assert str(a.unit_price) == str(b.unit_price)
            assert type(a.quantity) is type(b.quantity)
        assert str(got.total) == str(want.total)


def test_a_price_read_twice_is_the_same_decimal() -> None:
    values = {"placed_at": "2025-03-29T12:00:00Z",
              "lines": [{"product_id": "p", "quantity": 1, "unit_price": 26.5}]}  # fmt: skip
    first = validate_order(SCHEMA, "o1", values)
    second = validate_order(SCHEMA, "o2", values)
    assert str(first.lines[0].unit_price) == str(second.lines[0].unit_price) == "26.5"
