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
from segmentry.model.limits import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_LIST_ITEMS,
    MAX_SAFE_INTEGER,
    MAX_STRING_LENGTH,
)
from segmentry.rules import operators
from segmentry.rules.ast import And, AttrRef, Condition, InSegment, Node, Not, Or, Scalar, Value
from segmentry.rules.operators import Arity, Each, Fn, Op
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
