"""The JSON form of a rule, for programs and the visual builder.

    {"and": [{"attr": "brand", "op": "=", "value": "Nike"},
             {"or": [{"segment": "vip"},
                     {"not": {"attr": "tags", "op": "contains", "value": "sale"}}]}]}

:func:`from_json` checks the shape strictly (unknown keys, wrong value shapes,
limits) and reports problems with a path such as ``and[1].op``, since a JSON
object has no line and column of its own; type errors are reported later, by
the checker, against the canonical text the tree prints as.
"""

from __future__ import annotations

import math
import re
from typing import Any

from segmentry.errors import Diagnostic, RuleError
from segmentry.model import temporal
from segmentry.model.limits import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_LIST_ITEMS,
    MAX_SAFE_INTEGER,
    MAX_STRING_LENGTH,
)
from segmentry.rules import operators
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
from segmentry.rules.operators import Act, Arity, Each, Fn, Op
from segmentry.rules.parser import KEYWORDS, LITERAL_WORDS

Json = dict[str, Any]
ATTR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def to_json(node: Node) -> Json:
    """The JSON form of ``node`` (the form the engine stores)."""
    match node:
        case Condition(attr, op, value):
            out: Json = {"attr": attr, "op": op.value}
            if node.fn is not None:
                out = {"attr": attr, "fn": node.fn.value, "op": op.value}
            if node.each is not None:
                out = {"attr": attr, "each": node.each.value, "op": op.value}
            if isinstance(value, AttrRef):
                out["value"] = {"attr": value.attr}
            elif op.arity is not Arity.NONE:
                out["value"] = list(value) if isinstance(value, tuple) else value
            return out
        case InSegment(code):
            return {"segment": code}
        case Not(item):
            return {"not": to_json(item)}
        case And(items):
            return {"and": [to_json(i) for i in items]}
        case Or(items):
            return {"or": [to_json(i) for i in items]}
        case Behaviour():
            return _behaviour(node)


def _behaviour(node: Behaviour) -> Json:
    """``{"fn": "purchased", "where": ..., "since": "-30d", "until": null}``, with
    ``op`` and ``value`` for the functions compared with a number."""
    where = None if node.where is None else to_json(node.where)
    out: Json = {"fn": node.act.value, "where": where, "since": node.since, "until": node.until}
    if node.op is not None:
        out.update(op=node.op.value, value=node.value)
    return out


def from_json(data: object) -> Node:
    """The rule tree of a JSON form, or a RuleError naming the path of the problem."""
    reader = _Reader()
    return reader.node(data, "rule", 1)


class _Reader:
    def __init__(self) -> None:
        self.conditions = 0

    def fail(self, path: str, message: str, hint: str = "") -> RuleError:
        return RuleError([Diagnostic(f"at {path}: {message}", 1, 1, hint)])

    def node(self, data: object, path: str, level: int) -> Node:
        if level > MAX_DEPTH:
            raise self.fail(path, f"rule is nested too deeply: more than {MAX_DEPTH} levels")
        if not isinstance(data, dict):
            example = '{"attr": "price", "op": ">", "value": 100}'
            raise self.fail(
                path, f"expected an object, got {_kind(data)}", f"a condition looks like {example}"
            )
        if "fn" in data and "attr" not in data:
            return self.behaviour(data, path, level)
        if "attr" in data or "op" in data:
            return self.condition(data, path)
        if len(data) != 1:
            raise self.fail(path, f"expected one of and, or, not, segment; got keys {sorted(data)}")
        key, inner = next(iter(data.items()))
        if key in ("and", "or"):
            return self.group(key, inner, f"{path}.{key}", level)
        if key == "not":
            return Not(self.node(inner, f"{path}.not", level + 1))
        if key == "segment":
            return self.segment(inner, f"{path}.segment")
        raise self.fail(
            path, f"unknown key {key!r}", "expected and, or, not, segment or a condition"
        )

    def group(self, key: str, items: object, path: str, level: int) -> Node:
        if not isinstance(items, list) or not items:
            raise self.fail(path, f"{key} needs a non-empty list of conditions")
        nodes = tuple(self.node(item, f"{path}[{i}]", level + 1) for i, item in enumerate(items))
        if len(nodes) == 1:
            return nodes[0]
        return And(nodes) if key == "and" else Or(nodes)

    def segment(self, code: object, path: str) -> Node:
        self._count(path)
        if not isinstance(code, str) or not code:
            raise self.fail(path, "a segment reference is a non-empty string code")
        return InSegment(self.string(code, path))

    def _count(self, path: str) -> None:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise self.fail(path, f"rule has more than {MAX_CONDITIONS:,} conditions")

    def condition(self, data: dict[str, Any], path: str) -> Node:
        self._count(path)
        extra = set(data) - {"attr", "fn", "each", "op", "value"}
        if extra:
            raise self.fail(path, f"unknown keys {sorted(extra)} in a condition")
        attr = data.get("attr")
        if not isinstance(attr, str) or not ATTR_RE.fullmatch(attr) or _reserved(attr):
            raise self.fail(f"{path}.attr", f"{_show(attr)} is not an attribute key")
        fn = self.function(data["fn"], f"{path}.fn") if "fn" in data else None
        each = self.each(data["each"], f"{path}.each") if "each" in data else None
        if fn is not None and each is not None:
            raise self.fail(path, "a condition has a function or a quantifier, not both")
        op = self.operator(data.get("op"), f"{path}.op")
        value = self.value(op, data.get("value"), f"{path}.value")
        if each is not None and isinstance(value, AttrRef):
            raise self.fail(f"{path}.value", "a quantifier tests items against a value")
        return Condition(attr, op, value, fn=fn, each=each)

    def behaviour(self, data: dict[str, Any], path: str, level: int) -> Node:
        """A behaviour function: ``{"fn": "amount_spent", "where": null, "since": "-1y",
        "op": ">", "value": 500}``; ``where``, ``since`` and ``until`` may be left out."""
        self._count(path)
        act = self.act(data["fn"], f"{path}.fn")
        extra = set(data) - {"fn", "where", "since", "until", "op", "value"}
        if extra:
            raise self.fail(path, f"unknown keys {sorted(extra)} in a behaviour function")
        raw_where = data.get("where")
        where = None if raw_where is None else self.node(raw_where, f"{path}.where", level + 1)
        since = self.window_end(data.get("since"), f"{path}.since")
        until = self.window_end(data.get("until"), f"{path}.until")
        op, value = self.counted(act, data.get("op"), data.get("value"), path)
        return Behaviour(act, where, since, until, op, value)

    def act(self, raw: object, path: str) -> Act:
        if isinstance(raw, str) and raw.lower() in {act.value for act in Act}:
            return Act(raw.lower())
        acts = ", ".join(act.value for act in Act)
        hint = f"behaviour functions are {acts}"
        if raw in {fn.value for fn in Fn}:
            hint = f'{raw}() takes an attribute: {{"fn": "{raw}", "attr": "tags", ...}}'
        raise self.fail(path, f"{_show(raw)} is not a behaviour function", hint)

    def window_end(self, raw: object, path: str) -> str | None:
        """A ``since``/``until``: a temporal literal, kept in its canonical spelling."""
        if raw is None:
            return None
        try:
            value = temporal.read_temporal(raw) if isinstance(raw, str) else None
        except temporal.TemporalError as exc:
            raise self.fail(path, str(exc)) from None
        if value is None:
            hint = 'write "-30d", "2024-01-01", "2024-01-01T10:00:00Z" or "today"'
            raise self.fail(path, f"{_show(raw)} is not a date or relative time", hint)
        return temporal.canonical(value)

    def counted(
        self, act: Act, raw_op: object, raw: object, path: str
    ) -> tuple[Op | None, int | float | None]:
        """The comparison of a counted value; ``purchased`` takes none, though its truth
        written as ``>= 1`` (or ``> 0``) is read as the truth it is."""
        if act is Act.PURCHASED:
            if raw_op is None and raw is None:
                return None, None
            op = self.operator(raw_op, f"{path}.op")
            truth = (op is Op.GE and raw == 1) or (op is Op.GT and raw == 0)
            if truth and not isinstance(raw, bool):
                return None, None
            raise self.fail(f"{path}.op", f"purchased is true or false: {_show(raw_op)} "
                            f"{_show(raw)} is no comparison it takes (leave op and value out)",
                            'to compare the units bought, use "units_purchased"')  # fmt: skip
        op = self.operator(raw_op, f"{path}.op")
        if op not in operators.BEHAVIOUR_OPS:
            allowed = operators.listed(operators.BEHAVIOUR_OPS)
            raise self.fail(f"{path}.op", f"{act.value} is compared with one of {allowed}")
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise self.fail(f"{path}.value", f"{act.value} is compared with a number, "
                            f"got {_kind(raw)}", "write a number: 500 or 99.99")  # fmt: skip
        return op, self.number(raw, f"{path}.value")

    def each(self, raw: object, path: str) -> Each:
        if isinstance(raw, str) and raw.lower() in {each.value for each in Each}:
            return Each(raw.lower())
        allowed = ", ".join(each.value for each in Each)
        raise self.fail(path, f"{_show(raw)} is not a quantifier", f"quantifiers are {allowed}")

    def function(self, raw: object, path: str) -> Fn:
        if isinstance(raw, str) and raw.lower() in {fn.value for fn in Fn}:
            return Fn(raw.lower())
        allowed = ", ".join(fn.value for fn in Fn)
        raise self.fail(path, f"{_show(raw)} is not a function", f"functions are {allowed}")

    def operator(self, raw: object, path: str) -> Op:
        if isinstance(raw, str):
            op = operators.JSON_NAMES.get(" ".join(raw.lower().split()))
            if op is not None:
                return op
        allowed = ", ".join(op.value for op in Op)
        raise self.fail(path, f"{_show(raw)} is not an operator", f"operators are {allowed}")

    def value(self, op: Op, raw: object, path: str) -> Value:
        if op.arity is Arity.NONE:
            if raw is not None:
                raise self.fail(path, f"{op.value} takes no value")
            return None
        if isinstance(raw, dict) and op in operators.ATTRIBUTE_OPS:
            return self.attr_ref(raw, path)
        if op.arity is Arity.ONE:
            return self.scalar(raw, path, op)
        if not isinstance(raw, list):
            raise self.fail(path, f"{op.value} takes a list, got {_kind(raw)}")
        if op.arity is Arity.PAIR and len(raw) != 2:
            raise self.fail(path, "between takes a list of two values [low, high]")
        if not 1 <= len(raw) <= MAX_LIST_ITEMS:
            raise self.fail(path, f"{op.value} takes between 1 and {MAX_LIST_ITEMS:,} values")
        return tuple(self.scalar(item, f"{path}[{i}]", op) for i, item in enumerate(raw))

    def attr_ref(self, raw: dict[str, Any], path: str) -> AttrRef:
        """Another attribute as the value: ``{"attr": "original_price"}``."""
        attr = raw.get("attr")
        if set(raw) != {"attr"} or not isinstance(attr, str):
            raise self.fail(path, 'another attribute is written {"attr": "key"}')
        if not ATTR_RE.fullmatch(attr) or _reserved(attr):
            raise self.fail(f"{path}.attr", f"{_show(attr)} is not an attribute key")
        return AttrRef(attr)

    def scalar(self, raw: object, path: str, op: Op) -> Scalar:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int | float):
            return self.number(raw, path)
        if isinstance(raw, str):
            return self.string(raw, path)
        if raw is None:
            raise self.fail(
                path, f"{op.value} needs a value", 'to test for a missing value use "is null"'
            )
        raise self.fail(path, f"expected a string, number or boolean, got {_kind(raw)}")

    def number(self, raw: int | float, path: str) -> int | float:
        if isinstance(raw, float) and not math.isfinite(raw):
            raise self.fail(path, "numbers must be finite")
        if abs(raw) > MAX_SAFE_INTEGER:
            raise self.fail(path, f"number {raw} is out of range (±{MAX_SAFE_INTEGER:,})")
        return raw

    def string(self, raw: str, path: str) -> str:
        if len(raw) > MAX_STRING_LENGTH:
            raise self.fail(path, f"string is longer than {MAX_STRING_LENGTH:,} characters")
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in raw):
            raise self.fail(path, "string holds a lone surrogate")
        return raw


def _reserved(word: str) -> bool:
    return word.upper() in KEYWORDS or word.upper() in LITERAL_WORDS


def _kind(data: object) -> str:
    if data is None:
        return "null"
    if isinstance(data, int | float) and not isinstance(data, bool):
        return "a number"
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(data), type(data).__name__)


def _show(raw: object) -> str:
    text = repr(raw)
    return text if len(text) <= 60 else text[:57] + "..."
