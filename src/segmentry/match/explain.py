"""Explain: one entity against one rule, condition by condition.

The answer is the rule's tree in JSON form where every node also carries its
``result``, and every condition the ``seen`` value (as stored, or ``None``
when missing; for a function of an attribute, the function's value), and a
comparison of two attributes the other one's value as ``seen_other``. It
reuses the Python evaluator, so an explanation can never disagree with
membership.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from segmentry.match.eval_python import Compiler, Members, Record, no_segments
from segmentry.model.schema import Schema
from segmentry.model.temporal import EvalContext
from segmentry.rules.ast import And, AttrRef, Condition, InSegment, Node, Not, Or
from segmentry.rules.jsonform import to_json
from segmentry.rules.operators import Fn

Explained = dict[str, Any]


def explain(
    node: Node,
    schema: Schema,
    ctx: EvalContext,
    *,
    record: Record,
    document: Mapping[str, Any],
    entity_id: Any,
    members: Members = no_segments,
) -> Explained:
    """The tree of ``node`` with each condition's seen value and each node's result."""
    explainer = Explainer(Compiler(schema, ctx, members), record, document, entity_id)
    return explainer.node(node)


class Explainer:
    def __init__(
        self, compiler: Compiler, record: Record, document: Mapping[str, Any], entity_id: Any
    ) -> None:
        self.compiler = compiler
        self.record = record
        self.document = document
        self.entity_id = entity_id

    def node(self, node: Node) -> Explained:
        return NODE_HANDLERS[type(node)](self, node)

    def group(self, node: And | Or) -> Explained:
        word = "and" if isinstance(node, And) else "or"
        items = [self.node(i) for i in node.items]
        combine = all if isinstance(node, And) else any
        return {word: items, "result": combine(i["result"] for i in items)}

    def not_(self, node: Not) -> Explained:
        inner = self.node(node.item)
        return {"not": inner, "result": not inner["result"]}

    def leaf(self, node: Condition | InSegment) -> Explained:
        out = to_json(node)
        if isinstance(node, Condition):
            out["seen"] = seen(node, self.document.get(node.attr))
            if isinstance(node.value, AttrRef):
                out["seen_other"] = self.document.get(node.value.attr)
        out["result"] = self.compiler.node(node)(self.record, self.entity_id)
        return out


def seen(cond: Condition, value: Any) -> Any:
    """What the condition compares: the attribute's value, or the function's of it
    (``count(tags)`` sees the number of items, 0 for a missing list)."""
    if cond.fn is Fn.COUNT:
        return len(value or ())
    return value


NODE_HANDLERS: dict[type, Callable[[Explainer, Any], Explained]] = {
    And: Explainer.group,
    Or: Explainer.group,
    Not: Explainer.not_,
    InSegment: Explainer.leaf,
    Condition: Explainer.leaf,
}
