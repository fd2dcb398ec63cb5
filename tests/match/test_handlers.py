"""Every evaluator has one handler for every node type and every primitive test."""

from __future__ import annotations

import pytest

from segmentry.match import eval_columnar, eval_python, eval_sql, explain
from segmentry.match.lowering import PRIMITIVE_TYPES
from segmentry.rules.ast import NODE_TYPES

EVALUATORS = [eval_python, eval_sql, eval_columnar, explain]


@pytest.mark.parametrize("module", EVALUATORS, ids=lambda m: m.__name__)
def test_every_node_type_has_a_handler(module: object) -> None:
    assert set(module.NODE_HANDLERS) == set(NODE_TYPES)  # type: ignore[attr-defined]


@pytest.mark.parametrize("module", [eval_python, eval_sql, eval_columnar], ids=lambda m: m.__name__)
def test_every_primitive_has_a_handler(module: object) -> None:
    assert set(module.PRIMITIVE_HANDLERS) == set(PRIMITIVE_TYPES)  # type: ignore[attr-defined]
