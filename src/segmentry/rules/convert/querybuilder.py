"""react-querybuilder's rule groups both ways.

Read: ``RuleGroupType`` (``{"combinator", "not", "rules"}``) and
``RuleGroupTypeIC`` (independent combinators: ``{"rules": [rule, "and", rule,
"or", rule]}``, where AND binds tighter than OR, as react-querybuilder's own
conversion groups them). Rules and groups marked ``disabled`` or ``muted`` are
left out, as react-querybuilder's exports leave them out. Values may be
strings as the UI sends them (``"100"`` for a number, ``"a,b"`` for a list)
or JSON values. Written: ``RuleGroupType`` with the default operators.

:data:`OPERATORS` is every operator we read; :data:`REFUSED_KEYS` the rule
properties whose meaning the language does not have yet.
"""

from __future__ import annotations

import re
from typing import Any

from segmentry.model.schema import Attribute, AttrType, Schema
from segmentry.rules.ast import (
    And,
    AttrRef,
    Behaviour,
    Condition,
    InSegment,
    Node,
    Not,
    Or,
    Scalar,
    Value,
)
from segmentry.rules.convert.common import Depth, attribute, condition, join, plain, refuse
from segmentry.rules.operators import ATTRIBUTE_OPS, NEGATION, Arity, Op

Json = Any

OPERATORS: dict[str, Op] = {
    "=": Op.EQ,
    "!=": Op.NE,
    "<": Op.LT,
    ">": Op.GT,
    "<=": Op.LE,
    ">=": Op.GE,
    "contains": Op.CONTAINS,
    "beginsWith": Op.STARTS_WITH,
    "endsWith": Op.ENDS_WITH,
    "doesNotContain": Op.NOT_CONTAINS,
    "doesNotBeginWith": Op.NOT_STARTS_WITH,
    "doesNotEndWith": Op.NOT_ENDS_WITH,
    "null": Op.IS_NULL,
    "notNull": Op.IS_NOT_NULL,
    "in": Op.IN,
    "notIn": Op.NOT_IN,
    "between": Op.BETWEEN,
    "notBetween": Op.NOT_BETWEEN,
}
"""react-querybuilder operator → our operator (each of its negations is one of ours)."""

REFUSED_KEYS: dict[str, str] = {
    "match": "list match modes (all, none, some, at least, at most) are not yet translated",
}
NUMBER_RE = re.compile(r"-?\d+(\.\d+)?")


def read(data: Json, schema: Schema) -> Node:
    """The rule a react-querybuilder query means, or a ConversionError naming the construct."""
    return _Reader(schema).group(data, "rule")


class _Reader:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.depth = Depth()

    def group(self, data: Json, path: str) -> Node:
        self.depth.enter(path)
        try:
            return self.group_at(data, path)
        finally:
            self.depth.leave()

    def group_at(self, data: Json, path: str) -> Node:
        if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
            raise refuse("a rule group", path, 'a group is {"combinator": ..., "rules": [...]}')
        rules: list[Json] = data["rules"]
        if "combinator" in data and data["combinator"] is not None:
            node = self.standard(data["combinator"], rules, path)
        else:
            node = self.independent(rules, path)
        return Not(node) if data.get("not") is True else node

    def standard(self, combinator: Json, rules: list[Json], path: str) -> Node:
        any_of = self.combinator(combinator, f"{path}.combinator")
        items = [self.item(r, f"{path}.rules[{i}]") for i, r in enumerate(rules) if _active(r)]
        if not items:
            raise refuse("an empty group", f"{path}.rules", "it matches everything; add a rule")
        return join(items, any_of=any_of)

    def independent(self, rules: list[Json], path: str) -> Node:
        """``[r, "and", r, "or", r]``: OR of runs joined by AND (AND binds tighter)."""
        runs: list[list[Node]] = [[]]
        pending: str | None = None
        for i, entry in enumerate(rules):
            where = f"{path}.rules[{i}]"
            if i % 2:
                if not isinstance(entry, str):
                    raise refuse(
                        _show(entry),
                        where,
                        "independent combinators alternate rules and 'and'/'or'",
                    )
                pending = entry
                continue
            if not _active(entry):
                continue
            node = self.item(entry, where)
            if pending is not None and runs[-1] and not self.combinator(pending, where):
                runs[-1].append(node)
            elif pending is not None and runs[-1]:
                runs.append([node])
            else:
                runs[-1].append(node)
        groups = [join(run, any_of=False) for run in runs if run]
        if not groups:
            raise refuse("an empty group", f"{path}.rules", "it matches everything; add a rule")
        return join(groups, any_of=True)

    def combinator(self, raw: Json, path: str) -> bool:
        """True for OR, False for AND."""
        word = raw.lower() if isinstance(raw, str) else raw
        if word not in ("and", "or"):
            raise refuse(f"combinator {raw!r}", path, "combinators are 'and' and 'or'")
        return bool(word == "or")

    def item(self, data: Json, path: str) -> Node:
        if isinstance(data, dict) and "rules" in data:
            return self.group(data, path)
        return self.rule(data, path)

    def rule(self, data: Json, path: str) -> Node:
        if not isinstance(data, dict):
            raise refuse(_show(data), path, "expected a rule or a group")
        for key, why in REFUSED_KEYS.items():
            if data.get(key) is not None:
                raise refuse(f"{key} {_show(data[key])}", f"{path}.{key}", why)
        source = data.get("valueSource", "value")
        if source not in ("value", "field"):
            why = 'valueSource is "value" or "field"'
            raise refuse(f"valueSource {source!r}", f"{path}.valueSource", why)
        attr = attribute(data.get("field"), self.schema, f"{path}.field")
        name = data.get("operator")
        if name not in OPERATORS:
            known = ", ".join(OPERATORS)
            raise refuse(f"operator {name!r}", f"{path}.operator", f"operators are {known}")
        op = OPERATORS[name]
        if source == "field":
            return self.against_field(attr, op, data.get("value"), path)
        value = self.value(attr, op, data.get("value"), f"{path}.value")
        return condition(attr, op, value, self.schema, path)

    def against_field(self, attr: Attribute, op: Op, raw: Json, path: str) -> Node:
        """``valueSource: "field"``: the value names another attribute."""
        if op not in ATTRIBUTE_OPS:
            why = "an attribute compares with another by =, !=, <, <=, > or >="
            raise refuse(f"operator {op.value!r} against a field", f"{path}.operator", why)
        other = attribute(raw, self.schema, f"{path}.value")
        return condition(attr, op, AttrRef(other.key), self.schema, path)

    def value(self, attr: Attribute, op: Op, raw: Json, path: str) -> Value:
        if op.arity is Arity.NONE:
            return None
        if op.arity is Arity.ONE:
            return self.scalar(attr, raw, path)
        items = [part.strip() for part in raw.split(",")] if isinstance(raw, str) else raw
        if not isinstance(items, list) or not items:
            raise refuse(_show(raw), path, f"{op.value} takes a list or comma-separated values")
        if op.arity is Arity.PAIR and len(items) != 2:
            raise refuse(_show(raw), path, "between takes two values")
        return tuple(self.scalar(attr, item, f"{path}[{i}]") for i, item in enumerate(items))

    def scalar(self, attr: Attribute, raw: Json, path: str) -> Scalar:
        """A value as the attribute's type reads it (the UI sends numbers as strings)."""
        if isinstance(raw, str):
            text = raw.strip()
            if attr.type.is_numeric and NUMBER_RE.fullmatch(text):
                return float(text) if "." in text else int(text)
            if attr.type is AttrType.BOOLEAN and text.lower() in ("true", "false"):
                return text.lower() == "true"
            return raw
        if isinstance(raw, bool | int | float):
            return raw
        raise refuse(_show(raw), path, "expected a string, number or boolean")


def _active(entry: Json) -> bool:
    return not (isinstance(entry, dict) and (entry.get("disabled") or entry.get("muted")))


# -- writing ----------------------------------------------------------------------------

WRITTEN: dict[Op, str] = {op: name for name, op in OPERATORS.items()}


def write(node: Node, schema: Schema) -> Json:
    """A ``RuleGroupType`` for a checked rule, or a ConversionError for what it cannot say."""
    out = _write(node, "rule")
    return out if "rules" in out else {"combinator": "and", "rules": [out]}


def _write(node: Node, path: str) -> Json:
    plain(node, path, "react-querybuilder", pairs=True)
    match node:
        case Not(Condition(attr, op, value)) if NEGATION.get(op) in WRITTEN:
            return _rule(attr, WRITTEN[NEGATION[op]], value)
        case Not(item):
            inner = _write(item, f"{path}.not")
            group = inner if "rules" in inner else {"combinator": "and", "rules": [inner]}
            return {**group, "not": not group.get("not", False)}
        case InSegment(code):
            raise refuse(f"IN SEGMENT {code!r}", path, "react-querybuilder has no segments")
        case Behaviour():
            why = "react-querybuilder has no behaviour functions"
            raise refuse(f"{node.act.value}()", path, why)
        case Condition(attr, op, value):
            return _condition(attr, op, value, path)
        case And(items) | Or(items):
            word = "and" if isinstance(node, And) else "or"
            rules = [_write(item, f"{path}.{word}[{n}]") for n, item in enumerate(items)]
            return {"combinator": word, "rules": rules}


LIST_TESTS = {
    Op.CONTAINS_ANY: ("or", "contains"),
    Op.CONTAINS_ALL: ("and", "contains"),
    Op.CONTAINS_NONE: ("and", "doesNotContain"),
}
"""A list operator written as a group of element tests (NONE: no value is contained)."""


def _condition(attr: str, op: Op, value: Value, path: str) -> Json:
    if op in WRITTEN:
        return _rule(attr, WRITTEN[op], value)
    if op in LIST_TESTS:
        assert isinstance(value, tuple)
        combinator, test = LIST_TESTS[op]
        return {"combinator": combinator, "rules": [_rule(attr, test, item) for item in value]}
    raise refuse(f"{op.value.upper()} ({attr})", path, "react-querybuilder has no such operator")


def _rule(attr: str, operator: str, value: Value) -> Json:
    out: Json = {"field": attr, "operator": operator}
    if isinstance(value, AttrRef):
        out.update(value=value.attr, valueSource="field")
    elif value is not None:
        out["value"] = list(value) if isinstance(value, tuple) else value
    return out


def _show(data: Json) -> str:
    text = repr(data)
    return text if len(text) <= 60 else text[:57] + "..."
