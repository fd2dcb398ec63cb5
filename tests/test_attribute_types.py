"""Every per-type fact knows every attribute type.

What each layer does with a type lives beside that layer's code (model/ checks
and encodes values, rules/ says which operators apply, match/ lowers, stores
and reads them, api/ and the CSV files spell them). Rather than one table of
everything, this test pins that each per-type table covers every ``AttrType``,
and that the paths chosen per type by ``if`` (the batch validation, the CSV
cells) take every type there and back: a new type fails here until each
layer says what it does with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from segmentry.api.entity_bodies import JSON_TYPES
from segmentry.engine.csv_cells import restored
from segmentry.engine.import_readers import cell_value
from segmentry.match.columns import COLUMN_TYPES
from segmentry.match.eval_sql import ACCESSORS
from segmentry.match.lowering import LOWERERS
from segmentry.model.batch_values import FEW, validate_many
from segmentry.model.schema import DESCRIPTIONS, AttrType
from segmentry.model.values import COERCERS, ENCODERS, encode, validate
from segmentry.rules.operators import BY_TYPE, Op
from segmentry.web.idlists import _cell
from tests.rules.strategies import ONE_OF_EACH_TYPE, SCHEMAS

TABLES: dict[str, Mapping[AttrType, Any]] = {
    "model.schema.DESCRIPTIONS": DESCRIPTIONS,
    "model.values.COERCERS": COERCERS,
    "model.values.ENCODERS": ENCODERS,
    "rules.operators.BY_TYPE": BY_TYPE,
    "match.lowering.LOWERERS": LOWERERS,
    "match.columnar.COLUMN_TYPES": COLUMN_TYPES,
    "match.eval_sql.ACCESSORS": ACCESSORS,
    "api.entity_bodies.JSON_TYPES": JSON_TYPES,
}
SENT: dict[AttrType, Any] = {
    AttrType.STRING: " Nike ", AttrType.ENUM: "gold", AttrType.NUMBER: 19.99,
    AttrType.INTEGER: 3, AttrType.BOOLEAN: True, AttrType.DATE: "2024-03-01",
    AttrType.DATETIME: "2024-03-01T10:00:00+01:00", AttrType.STRING_LIST: ["a", " b", "a"],
}  # fmt: skip
"""A value of each type as a client sends it (not yet in its stored form)."""
TYPES = list(AttrType)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_each_per_type_table_has_every_type(name: str) -> None:
    assert set(TABLES[name]) == set(AttrType)


@pytest.mark.parametrize("type_", TYPES)
def test_each_type_has_a_test_besides_the_null_tests(type_: AttrType) -> None:
    assert BY_TYPE[type_] - {Op.IS_NULL, Op.IS_NOT_NULL}


def test_the_samples_and_the_batch_property_cover_every_type() -> None:
    assert set(SENT) == set(AttrType)
    for schema in SCHEMAS.values():
        assert {a.type for a in schema if not a.derived and not a.builtin} == set(AttrType)


@pytest.mark.parametrize("type_", TYPES)
def test_the_batch_path_of_each_type_stores_and_encodes_as_one_item_alone(
    type_: AttrType,
) -> None:
    key = f"x_{type_.value}"
    items = [(f"p{n}", {key: SENT[type_]}) for n in range(FEW)]
    outcomes, encoder = validate_many(ONE_OF_EACH_TYPE, items)
    alone = validate(ONE_OF_EACH_TYPE, "p0", {key: SENT[type_]})
    assert repr(outcomes[0]) == repr(alone)
    assert repr(encoder.record(alone)) == repr(encode(ONE_OF_EACH_TYPE, alone))


@pytest.mark.parametrize("type_", TYPES)
def test_a_csv_cell_of_each_type_reads_back_as_the_stored_value(type_: AttrType) -> None:
    attribute = ONE_OF_EACH_TYPE.get(f"x_{type_.value}")
    assert attribute is not None
    stored = validate(ONE_OF_EACH_TYPE, "p1", {attribute.key: SENT[type_]})[attribute.key]
    read = cell_value(attribute, restored(_cell(stored)))
    assert validate(ONE_OF_EACH_TYPE, "p1", {attribute.key: read})[attribute.key] == stored
