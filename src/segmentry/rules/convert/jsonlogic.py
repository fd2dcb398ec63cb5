"""JsonLogic (jsonlogic.com, json-logic-js) both ways.

Read in segmentry's meaning: strings compare ignoring case, and a missing value
fails every test but ``missing`` (so ``!=`` and ``!`` hold for it, as in
JsonLogic, while ``<`` does not, where JavaScript would read null as 0).
A ``var`` names an attribute: ``price``, or ``attributes.loyalty`` for a custom
one. Every operator JsonLogic has is either in :data:`READERS` or in
:data:`REFUSED`, which says why; a construct the language gains later moves from
the second table to the first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from segmentry.errors import RuleError
from segmentry.model.schema import Attribute, AttrType, Schema
from segmentry.rules.ast import And, AttrRef, Behaviour, Condition, InSegment, Node, Not, Or, Scalar
from segmentry.rules.check import check
from segmentry.rules.convert.common import (
    Depth,
    attribute,
    condition,
    field_name,
    join,
    plain,
    refuse,
)
from segmentry.rules.operators import Each, Op

Json = Any

COMPARISONS: dict[str, Op] = {
    "==": Op.EQ, "===": Op.EQ, "!=": Op.NE, "!==": Op.NE,
    "<": Op.LT, "<=": Op.LE, ">": Op.GT, ">=": Op.GE,
}  # fmt: skip
FLIPPED = {Op.LT: Op.GT, Op.LE: Op.GE, Op.GT: Op.LT, Op.GE: Op.LE, Op.EQ: Op.EQ, Op.NE: Op.NE}
NOT_YET = "not yet in the rule language"
REFUSED: dict[str, str] = {
    **dict.fromkeys(["+", "-", "*", "/", "%", "min", "max"], "arithmetic is not in the rules"),
    **dict.fromkeys(["map", "reduce", "filter", "merge"], "array building is not in the rules"),
    **dict.fromkeys(["cat", "substr"], "string building is not in the rules"),
    **dict.fromkeys(["if", "?:"], "conditional values are not in the rules"),
    "log": "logging is not part of a rule",
    "method": "method calls are not part of a rule",
}


def read(data: Json, schema: Schema) -> Node:
    """The rule a JsonLogic expression means, or a ConversionError naming the construct."""
    return _Reader(schema).rule(data, "rule")


class _Reader:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.depth = Depth()

    def rule(self, data: Json, path: str) -> Node:
        self.depth.enter(path)
        try:
            return self.operation(data, path)
        finally:
            self.depth.leave()

    def operation(self, data: Json, path: str) -> Node:
        if not isinstance(data, dict) or len(data) != 1:
            raise refuse(_show(data), path, "a JsonLogic rule is an object with one operator")
        name, args = next(iter(data.items()))
        where = f"{path}.{name}"
        if name in REFUSED:
            raise refuse(f"JsonLogic operator {name!r}", where, REFUSED[name])
        reader = READERS.get(name)
        if reader is None:
            raise refuse(f"JsonLogic operator {name!r}", where, "not a JsonLogic operator we read")
        return reader(self, args, where)

    def args(self, raw: Json, path: str, counts: tuple[int, ...]) -> list[Json]:
        items = raw if isinstance(raw, list) else [raw]
        if len(items) not in counts:
            wanted = " or ".join(str(c) for c in counts)
            raise refuse(f"{len(items)} arguments", path, f"this operator takes {wanted}")
        return items

    def group(self, raw: Json, path: str, *, any_of: bool) -> Node:
        if not isinstance(raw, list) or not raw:
            raise refuse("an empty group", path, "and/or take a non-empty list of rules")
        return join([self.rule(item, f"{path}[{i}]") for i, item in enumerate(raw)], any_of=any_of)

    def var(self, raw: Json, path: str) -> Attribute | None:
        """The attribute of a ``{"var": ...}`` operand, or None for a literal."""
        if not isinstance(raw, dict) or "var" not in raw:
            return None
        if len(raw) != 1:
            raise refuse(_show(raw), path, "var stands alone in its object")
        name = raw["var"]
        if isinstance(name, list):
            if len(name) != 1:
                raise refuse(
                    "var with a default", f"{path}.var", "defaults change what missing means"
                )
            name = name[0]
        return attribute(name, self.schema, f"{path}.var")

    def literal(self, raw: Json, path: str) -> Scalar | None:
        if raw is None or isinstance(raw, str | int | float | bool):
            return raw
        if isinstance(raw, dict) and len(raw) == 1:
            name = next(iter(raw))
            why = REFUSED.get(name, "only attributes and literals can be compared")
            raise refuse(f"JsonLogic operator {name!r}", f"{path}.{name}", why)
        raise refuse(_show(raw), path, "expected a literal value")

    # -- operators ----------------------------------------------------------------

    def and_(self, raw: Json, path: str) -> Node:
        return self.group(raw, path, any_of=False)

    def or_(self, raw: Json, path: str) -> Node:
        return self.group(raw, path, any_of=True)

    def not_(self, raw: Json, path: str) -> Node:
        (item,) = self.args(raw, path, (1,))
        return Not(self.truthy(item, f"{path}[0]" if isinstance(raw, list) else path))

    def double_not(self, raw: Json, path: str) -> Node:
        (item,) = self.args(raw, path, (1,))
        return self.truthy(item, f"{path}[0]" if isinstance(raw, list) else path)

    def truthy(self, item: Json, path: str) -> Node:
        """A rule, or an attribute read as JavaScript truthiness."""
        attr = self.var(item, path)
        if attr is None:
            return self.rule(item, path)
        if attr.type is AttrType.BOOLEAN:
            return condition(attr, Op.EQ, True, self.schema, path)
        present = condition(attr, Op.IS_NOT_NULL, None, self.schema, path)
        if attr.type.is_numeric:  # 0 is falsy
            return And((present, condition(attr, Op.NE, 0, self.schema, path)))
        return present  # non-empty strings and lists (empty ones are missing)

    def var_alone(self, raw: Json, path: str) -> Node:
        return self.truthy({"var": raw}, path[: -len(".var")])

    def pair(self, op: Op, items: list[Json], path: str) -> Node:
        left, right = (self.var(item, f"{path}[{i}]") for i, item in enumerate(items))
        if left is not None and right is not None:
            return condition(left, op, AttrRef(right.key), self.schema, path)
        if left is None and right is None:
            for i, item in enumerate(items):  # an operand that is an operator is named
                self.literal(item, f"{path}[{i}]")
            raise refuse("a comparison of two literals", path, "one side must be a var")
        attr, value_at = (left, 1) if left is not None else (right, 0)
        assert attr is not None
        if left is None:
            op = FLIPPED[op]
        value = self.literal(items[value_at], f"{path}[{value_at}]")
        if value is None:
            if op in (Op.EQ, Op.NE):
                null_op = Op.IS_NULL if op is Op.EQ else Op.IS_NOT_NULL
                return condition(attr, null_op, None, self.schema, path)
            raise refuse(f"{op.value} null", path, "only == and != compare with null")
        return condition(attr, op, value, self.schema, path)

    def between(self, op: Op, items: list[Json], path: str) -> Node:
        attr = self.var(items[1], f"{path}[1]")
        if attr is None or self.var(items[0], path) or self.var(items[2], path):
            raise refuse("a three-argument comparison", path, "the middle argument must be the var")
        low = self.literal(items[0], f"{path}[0]")
        high = self.literal(items[2], f"{path}[2]")
        if low is None or high is None:
            raise refuse("null in a range", path, "a range needs two values")
        if op is Op.LE:
            return condition(attr, Op.BETWEEN, (low, high), self.schema, path)
        # The exclusive form is two strict comparisons: the same meaning, missing included.
        return And((condition(attr, Op.GT, low, self.schema, path),
                    condition(attr, Op.LT, high, self.schema, path)))  # fmt: skip

    def in_(self, raw: Json, path: str) -> Node:
        needle, haystack = self.args(raw, path, (2,))
        attr = self.var(needle, f"{path}[0]")
        if attr is not None:
            if not isinstance(haystack, list) or not haystack:
                raise refuse(
                    "a var 'in' a string", path, "write the value first to test a substring"
                )
            values = tuple(self.literal(v, f"{path}[1][{i}]") for i, v in enumerate(haystack))
            if any(v is None for v in values):
                raise refuse("null in a list", f"{path}[1]", "test for missing with 'missing'")
            return condition(attr, Op.IN, values, self.schema, path)  # type: ignore[arg-type]
        attr = self.var(haystack, f"{path}[1]")
        if attr is None:
            raise refuse("'in' without a var", path, "one side must be a var")
        value = self.literal(needle, f"{path}[0]")
        if value is None:
            raise refuse("null 'in' an attribute", path)
        return condition(attr, Op.CONTAINS, value, self.schema, path)

    def quantifier(self, each: Each, raw: Json, path: str) -> Node:
        """``{"some": [{"var": "tags"}, {"==": [{"var": ""}, "a"]}]}``: ANY tags = 'a'
        (``all`` is false for an empty list in JsonLogic too, ``none`` true)."""
        listed, test = self.args(raw, path, (2,))
        attr = self.var(listed, f"{path}[0]")
        if attr is None:
            raise refuse(_show(listed), f"{path}[0]", "the first argument must be a list var")
        op, value = self.item_test(test, f"{path}[1]")
        try:
            return check(Condition(attr.key, op, value, each=each), self.schema)
        except RuleError as exc:
            why = "; ".join(d.message for d in exc.diagnostics)
            raise refuse(f"{each.value} over {attr.key}", path, why) from None

    def item_test(self, raw: Json, path: str) -> tuple[Op, Scalar]:
        """A test of the current item: ``==``/``!=`` with a value, or ``in`` (a substring)."""
        if isinstance(raw, dict) and len(raw) == 1:
            name, items = next(iter(raw.items()))
            if name in COMPARISONS and COMPARISONS[name] in (Op.EQ, Op.NE):
                pair = self.args(items, f"{path}.{name}", (2,))
                value = next((v for v in pair if v != ITEM), None)
                if ITEM in pair and value is not None and not isinstance(value, dict | list):
                    return COMPARISONS[name], value
            if name == "in":
                pair = self.args(items, f"{path}.in", (2,))
                if pair[1] == ITEM and isinstance(pair[0], str):
                    return Op.CONTAINS, pair[0]
        raise refuse(_show(raw), path, 'the item test is ==, != or in with {"var": ""}')

    def missing(self, raw: Json, path: str) -> Node:
        names = raw if isinstance(raw, list) else [raw]
        if not names:
            raise refuse("missing with no names", path, "it is never true")
        return join(self.nulls(names, path), any_of=True)

    def missing_some(self, raw: Json, path: str) -> Node:
        need, names = self.args(raw, path, (2,))
        if not isinstance(names, list) or not names or isinstance(need, bool):
            raise refuse(_show(raw), path, "missing_some takes [need, [names]]")
        nulls = self.nulls(names, f"{path}[1]")
        if need == 1:  # fewer than one present: all are missing
            return join(nulls, any_of=False)
        if need == len(names):  # fewer than all present: any is missing
            return join(nulls, any_of=True)
        raise refuse(f"missing_some needing {need} of {len(names)}", path,
                     "only 1 or all of the names can be counted")  # fmt: skip

    def nulls(self, names: list[Json], path: str) -> list[Node]:
        out = []
        for i, name in enumerate(names):
            attr = attribute(name, self.schema, f"{path}[{i}]")
            out.append(condition(attr, Op.IS_NULL, None, self.schema, f"{path}[{i}]"))
        return out


def _comparison(name: str) -> Callable[[_Reader, Json, str], Node]:
    op = COMPARISONS[name]
    counts = (2, 3) if name in ("<", "<=") else (2,)  # only < and <= have a range form

    def read_comparison(reader: _Reader, raw: Json, path: str) -> Node:
        items = reader.args(raw, path, counts)
        if len(items) == 3:
            return reader.between(op, items, path)
        return reader.pair(op, items, path)

    return read_comparison


def _quantifier(each: Each) -> Callable[[_Reader, Json, str], Node]:
    def read_quantifier(reader: _Reader, raw: Json, path: str) -> Node:
        return reader.quantifier(each, raw, path)

    return read_quantifier


ITEM: dict[str, str] = {"var": ""}
"""The current item inside ``some``, ``all`` and ``none``."""
QUANTIFIERS = {Each.ANY: "some", Each.ALL: "all", Each.NONE: "none"}


READERS: dict[str, Callable[[_Reader, Json, str], Node]] = {
    "and": _Reader.and_,
    "or": _Reader.or_,
    "!": _Reader.not_,
    "!!": _Reader.double_not,
    "var": _Reader.var_alone,
    "in": _Reader.in_,
    "missing": _Reader.missing,
    "missing_some": _Reader.missing_some,
    **{name: _comparison(name) for name in COMPARISONS},
    **{name: _quantifier(each) for each, name in QUANTIFIERS.items()},
}


# -- writing ----------------------------------------------------------------------------

WRITTEN: dict[Op, str] = {Op.EQ: "==", Op.NE: "!=", Op.LT: "<", Op.LE: "<=", Op.GT: ">",
                          Op.GE: ">="}  # fmt: skip
UNWRITABLE: dict[Op, str] = {
    Op.STARTS_WITH: "JsonLogic has no prefix test",
    Op.ENDS_WITH: "JsonLogic has no suffix test",
    Op.MATCHES: "JsonLogic has no regular expressions",
}


def write(node: Node, schema: Schema) -> Json:
    """The JsonLogic form of a checked rule, or a ConversionError for what it cannot say."""
    return _write(node, schema, "rule")


def _write(node: Node, schema: Schema, path: str) -> Json:
    match node:
        case And(items) | Or(items):
            word = "and" if isinstance(node, And) else "or"
            return {word: [_write(i, schema, f"{path}.{word}[{n}]") for n, i in enumerate(items)]}
        case Not(item):
            return {"!": _write(item, schema, f"{path}.not")}
        case InSegment(code):
            raise refuse(f"IN SEGMENT {code!r}", path, "JsonLogic has no segments")
        case Condition():
            return _condition(node, schema, path)
        case Behaviour():
            raise refuse(f"{node.act.value}()", path, "JsonLogic has no behaviour functions")


def _condition(cond: Condition, schema: Schema, path: str) -> Json:
    plain(cond, path, "JsonLogic", pairs=True, each=True)
    attr = schema.by_key[cond.attr]
    var = {"var": field_name(attr)}
    op, value = cond.op, cond.value
    if op.positive in UNWRITABLE:
        raise refuse(f"{op.value.upper()} ({cond.attr})", path, UNWRITABLE[op.positive])
    if cond.each is not None:
        test = {WRITTEN[op]: [ITEM, value]} if op in WRITTEN else {"in": [value, ITEM]}
        return {QUANTIFIERS[cond.each]: [var, test]}
    if op.positive is Op.IS_NULL:
        missing = {"missing": [field_name(attr)]}
        return missing if op is Op.IS_NULL else {"!": missing}
    if isinstance(value, AttrRef):
        return {WRITTEN[op]: [var, {"var": field_name(schema.by_key[value.attr])}]}
    if op in WRITTEN:
        return {WRITTEN[op]: [var, value]}
    items = list(value) if isinstance(value, tuple) else [value]
    positive: Json
    if op.positive is Op.BETWEEN:
        positive = {"<=": [items[0], var, items[1]]}
    elif op.positive is Op.IN:
        positive = {"in": [var, items]}
    elif op.positive in (Op.CONTAINS_ANY, Op.CONTAINS_ALL):
        tests = [{"in": [item, var]} for item in items]
        word = "or" if op.positive is Op.CONTAINS_ANY else "and"
        positive = tests[0] if len(tests) == 1 else {word: tests}
    else:
        positive = {"in": [value, var]}
    # Negation is the exact complement in both languages, so NOT BETWEEN is ! of the between.
    return {"!": positive} if op.is_negative else positive


def _show(data: Json) -> str:
    text = repr(data)
    return text if len(text) <= 60 else text[:57] + "..."
