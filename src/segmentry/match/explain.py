"""Explain: one entity against one rule, condition by condition.

The answer is the rule's tree in JSON form where every node also carries its
``result``, and every condition the ``seen`` value (as stored, or ``None``
when missing; for a function of an attribute, the function's value: an
anniversary's day in ISO form), and a
comparison of two attributes the other one's value as ``seen_other``. A
behaviour function carries the value it computed as ``seen`` (money as a number
of the shop's currency) and the ids of the orders that made it as ``orders``. It
reuses the Python evaluator, so an explanation can never disagree with
membership.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from segmentry.match import anniversaries
from segmentry.match.behaviour import MONEY, MONEY_DIGITS
from segmentry.match.eval_python import Compiler, Members, Record, no_segments
from segmentry.match.order_view import OrderView
from segmentry.model.schema import AttrType, Schema
from segmentry.model.temporal import EvalContext, local_now
from segmentry.rules.ast import And, AttrRef, Behaviour, Condition, InSegment, Node, Not, Or
from segmentry.rules.jsonform import to_json
from segmentry.rules.operators import Act, Fn

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
    orders: OrderView | None = None,
) -> Explained:
    """The tree of ``node`` with each condition's seen value and each node's result
    (``entity_id`` is the entity's seq when the rule has a behaviour function)."""
    compiler = Compiler(schema, ctx, members, orders)
    explainer = Explainer(compiler, record, document, entity_id)
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
            if node.fn is Fn.ANNIVERSARY:
                out["seen"] = self.anniversary(node)
            if isinstance(node.value, AttrRef):
                out["seen_other"] = self.document.get(node.value.attr)
        out["result"] = self.compiler.node(node)(self.record, self.entity_id)
        return out

    def anniversary(self, node: Condition) -> str | None:
        """The anniversary's day (ISO), ``None`` for a missing date."""
        value, ctx = self.record.get(node.attr), self.compiler.ctx
        if value is None:
            return None
        type_ = self.compiler.schema.by_key[node.attr].type
        month_day = (
            anniversaries.of_moment(value, ctx.tz)
            if type_ is AttrType.DATETIME
            else anniversaries.of_day_number(value)
        )
        return anniversaries.next_occurrence(month_day, local_now(ctx).date()).isoformat()

    def behaviour(self, node: Behaviour) -> Explained:
        made = self.compiler.counter(node)(self.entity_id)  # raises without orders
        view = self.compiler.orders
        assert view is not None
        records = view.purchases.orders
        out = function_json(node)
        truth = node.act is Act.PURCHASED
        out["seen"] = made.value > 0 if truth else money_or_count(node, made.value)
        seqs = list(made.orders)
        named = view.order_ids
        out["orders"] = named(seqs) if named else [records.record(o).get("id") for o in seqs]
        out["result"] = self.compiler.node(node)(self.record, self.entity_id)
        return out


def function_json(node: Behaviour) -> Explained:
    """A behaviour function in the JSON form of SPEC §8."""
    out: Explained = {
        "fn": node.act.value,
        "where": None if node.where is None else to_json(node.where),
        "since": node.since,
        "until": node.until,
    }
    if node.op is not None:
        out["op"], out["value"] = node.op.value, node.value
    return out


def money_or_count(node: Behaviour, value: int) -> int | float:
    """A function's whole value as the user reads it: money from millionths (a whole
    amount as an integer), counts as they are."""
    if node.act not in MONEY:
        return value
    amount = Decimal(value).scaleb(-MONEY_DIGITS)
    return int(amount) if amount == amount.to_integral_value() else float(amount)


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
    Behaviour: Explainer.behaviour,
}
