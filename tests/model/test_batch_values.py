"""Validating a batch an attribute at a time gives exactly what validating each item
alone gives: the same documents (the same types, the same key order) and the same
errors; and the batch encoder gives exactly ``encode``'s records."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from segmentry.errors import ValidationError
from segmentry.model.batch_values import FEW, validate_many
from segmentry.model.limits import MAX_SAFE_INTEGER
from segmentry.model.schema import SEGMENTED_KINDS, AttrType, Kind, Schema
from segmentry.model.values import encode, validate
from tests.conftest import examples
from tests.rules.strategies import SCHEMAS, ZONES, entity_values, raw_values, writable

INSTANTS = ["2025-03-29T12:00:00Z", "2025-02-30T12:00:00Z", "0999-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z", "2024-12-31T23:59:60Z", "2025-03-29T24:00:00Z",
            " 2025-03-29T12:00:00Z", "2025-03-29T12:00:00.000000Z", "2025-03-29T12:00:00.5Z",
            "2025-03-29T12:00:00", "2025-03-29 12:00:00Z", "2025-03-29", "today",
            "2025-3-29T12:00:00Z", "\uff12\uff10\uff12\uff15-03-29T12:00:00Z"]  # fmt: skip
DAYS = ["2025-03-29", "2024-02-29", "2025-02-29", "0999-12-31", "9999-01-01", "2025-03-29 ",
        "2025-3-29", "2025-03-29T00:00:00Z", "yesterday"]  # fmt: skip
ODD = [None, "", "  ", 0, 1, 1.0, -0.0, 0.0, True, False, 2**53, 2**53 + 1, -(2**53) - 1,
       1e300, float("nan"), float("inf"), 3.5, Decimal("1.5"), [], ["a", "A", " a "], ["x", 1],
       ("t",), "Gold", "gold", " GOLD ", "x\x00y", "\ud800", {"a": 1}, datetime(2025, 3, 1),
       datetime(2025, 3, 1, tzinfo=UTC)]  # fmt: skip


def odd_values(schema: Schema) -> st.SearchStrategy[Any]:
    """Values of every kind for any attribute, right or wrong."""
    attributes = writable(schema)
    fitting = st.sampled_from(attributes).flatmap(raw_values)
    return st.one_of(fitting, st.sampled_from(ODD + INSTANTS + DAYS))


@st.composite
def batches(draw: st.DrawFn) -> tuple[Schema, list[tuple[str, dict[str, Any]]], Any]:
    """Items that repeat values (as real batches do), with odd ones mixed in."""
    schema = SCHEMAS[draw(st.sampled_from(list(SEGMENTED_KINDS)))]
    keys = [a.key for a in writable(schema)] + ["id", "average_order_value", "prce", "Brand"]
    pool = draw(st.lists(entity_values(schema), min_size=1, max_size=4))
    items = []
    for n in range(draw(st.integers(1, 12))):
        values = dict(draw(st.sampled_from(pool)))
        for key in draw(st.lists(st.sampled_from(keys), max_size=3)):
            ids = st.sampled_from([str(n), "other", None])
            values[key] = draw(ids if key == "id" else odd_values(schema))
        if draw(st.booleans()):
            values = dict(reversed(list(values.items())))
        items.append((str(n), values))
    # Batches this small are validated item by item; repeated, they take the column path.
    copies = [(f"{i}-{len(items)}", v) for i, v in items] * (FEW // len(items) + 1)
    return schema, items + copies, ZoneInfo(draw(st.sampled_from(ZONES)))


def _alone(schema: Schema, entity_id: str, values: dict[str, Any], tz: Any) -> Any:
    try:
        return validate(schema, entity_id, values, tz=tz)
    except ValidationError as exc:
        return exc


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, ValidationError) or isinstance(b, ValidationError):
        return (
            isinstance(a, ValidationError)
            and isinstance(b, ValidationError)
            and (a.message, a.problems, a.field) == (b.message, b.problems, b.field)
        )
    return repr(a) == repr(b)  # types, -0.0 and the order of keys count


@settings(max_examples=examples(400, 100))
@given(batch=batches())
def test_a_batch_validates_and_encodes_exactly_as_each_item_alone(batch: Any) -> None:
    schema, items, tz = batch
    outcomes, encoder = validate_many(schema, items, tz=tz)
    assert len(outcomes) == len(items)
    for (entity_id, values), outcome in zip(items, outcomes, strict=True):
        expected = _alone(schema, entity_id, values, tz)
        assert _same(outcome, expected), (values, outcome, expected)
        if not isinstance(outcome, ValidationError):
            assert repr(encoder.record(outcome)) == repr(encode(schema, outcome))


def test_canonical_instants_and_days_take_the_column_path() -> None:
    schema = SCHEMAS[Kind.CUSTOMER]
    items = [
        (str(n), {"last_order_at": f"2025-03-{n % 28 + 1:02d}T10:00:00Z", "birthday": "1990-05-17"})
        for n in range(FEW)
    ]
    outcomes, encoder = validate_many(schema, items)
    assert all(not isinstance(o, ValidationError) for o in outcomes)
    assert len(encoder.memo["last_order_at"]) == 28  # parsed for the column, not one by one
    assert encoder.memo["birthday"] == {"1990-05-17": 7441}


def test_a_few_items_are_validated_alone_and_encoded_as_encode_does() -> None:
    schema = SCHEMAS[Kind.CUSTOMER]
    items = [("c1", {"city": " Köln ", "last_order_at": "2025-03-01T10:00:00+01:00"})]
    outcomes, encoder = validate_many(schema, items)
    assert repr(outcomes) == repr([validate(schema, "c1", items[0][1])])
    assert encoder.memo["last_order_at"] == {}  # nothing parsed for a column
    assert encoder.record(outcomes[0]) == encode(schema, outcomes[0])  # type: ignore[arg-type]


def test_numbers_keep_their_types_and_their_sign() -> None:
    schema = SCHEMAS[Kind.CUSTOMER]
    values: list[Any] = [1, 1.0, -0.0, 0.0, 7.0, MAX_SAFE_INTEGER] * FEW  # the column path
    items = [(str(n), {"lifetime_value": v, "orders_count": v}) for n, v in enumerate(values)]
    outcomes, _ = validate_many(schema, items)
    for (entity_id, raw), outcome in zip(items, outcomes, strict=True):
        assert repr(outcome) == repr(validate(schema, entity_id, raw))
    assert {a.type for a in schema if a.key in ("lifetime_value", "orders_count")} == {
        AttrType.NUMBER,
        AttrType.INTEGER,
    }


def test_the_record_leaves_out_keys_the_schema_does_not_hold() -> None:
    schema = SCHEMAS[Kind.CUSTOMER]
    doc = {"id": "c1", "city": "Köln", "orders_count": 3, "not_declared": "x"}
    _, encoder = validate_many(schema, [("c1", {"city": "Köln", "orders_count": 3})])
    declared = {k: v for k, v in doc.items() if k in schema.by_key}
    assert encoder.record(doc) == encode(schema, declared)
    assert "not_declared" not in encoder.record(doc)
