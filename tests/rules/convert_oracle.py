"""The oracle of the conversion tests: who a rule selects on a generated shop,
by the Python evaluator (``compile_predicate``)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from segmentry.match.eval_python import compile_predicate
from segmentry.model.schema import SEGMENTED_KINDS, Kind, Schema
from segmentry.model.temporal import EvalContext
from segmentry.model.values import encode, validate
from segmentry.rules.ast import Node
from segmentry.rules.check import check
from tests.rules.strategies import SCHEMAS, entity_values, moments, typed_rules

Shop = list[tuple[str, dict[str, Any], dict[str, Any]]]
"""(id, stored document, evaluation record) of each entity."""


def build_shop(schema: Schema, raw: list[dict[str, Any]], ctx: EvalContext) -> Shop:
    shop = []
    for number, values in enumerate(raw):
        doc = validate(schema, f"e{number}", values, tz=ctx.tz)
        shop.append((f"e{number}", doc, encode(schema, doc)))
    return shop


def members(rule: Node, schema: Schema, ctx: EvalContext, shop: Shop) -> set[str]:
    predicate = compile_predicate(rule, schema, ctx)
    return {entity_id for entity_id, _, record in shop if predicate(record, entity_id)}


@st.composite
def cases(
    draw: st.DrawFn, kinds: tuple[Kind, ...] = SEGMENTED_KINDS, second_round: bool = False
) -> dict[str, Any]:
    """A checked rule without segment references, and a shop with missing values;
    ``second_round``: a rule of the second round's constructs only."""
    schema = SCHEMAS[draw(st.sampled_from(kinds))]
    ctx = draw(moments())
    raw = draw(st.lists(entity_values(schema), min_size=2, max_size=10))
    rule = check(draw(typed_rules(schema, segments=False, second_round=second_round)), schema)
    return {"schema": schema, "ctx": ctx, "shop": build_shop(schema, raw, ctx), "rule": rule}
