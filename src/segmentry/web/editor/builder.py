"""The rule builder's rows, and the conversions between rows and a rule's JSON form.

The builder shows a rule as rows (attribute / operator / value) that must all
hold, and groups of rows of which any one must hold. That is exactly the rules
whose JSON form is a condition, an ``or`` of conditions, or an ``and`` of
conditions and such ``or`` groups, where a condition may also be ``IN SEGMENT``
or ``NOT IN SEGMENT``. Any other rule (a NOT around a group, groups inside
groups, a behaviour function such as ``purchased(...)``) has no rows:
:func:`rows_from_rule` answers ``None`` and the page keeps it in text mode. Rows
only shape a rule; the library checks it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from segmentry.model.schema import Attribute, AttrType
from segmentry.rules.operators import BY_TYPE, OPERATORS, Arity, Op
from segmentry.web.editor import dates

SEGMENT = "@segment"
"""The pseudo attribute of a row that tests membership of another segment."""
IN_SEGMENT, NOT_IN_SEGMENT = "in segment", "not in segment"
MAX_ROWS = 200

Rule = dict[str, Any]
Attributes = Mapping[str, Attribute]


class BuilderError(ValueError):
    """The rows sent cannot make a rule at all (too many)."""


@dataclass
class Row:
    attr: str = ""
    op: str = ""
    values: list[str] = field(default_factory=list)
    error: str = ""
    pending: bool = False


@dataclass
class Group:
    """Rows of which any one must hold."""

    rows: list[Row] = field(default_factory=list)


Item = Row | Group


class Widget(StrEnum):
    """How a row asks for its value."""

    NONE = "none"
    TEXT = "text"
    NUMBER = "number"
    LIST = "list"
    PAIR = "pair"
    SELECT = "select"
    MULTI = "multi"
    BOOLEAN = "boolean"
    SEGMENT = "segment"
    DATE = "date"
    DATES = "dates"
    RELATIVE = "relative"


LABELS = {
    **{row.op.value: row.label for row in OPERATORS},
    IN_SEGMENT: "is in segment",
    NOT_IN_SEGMENT: "is not in segment",
    **dates.LABELS,
}
TEMPORAL_LABELS = {row.op.value: row.time_label for row in OPERATORS if row.time_label}


def lookup(attributes: Attributes, key: str) -> Attribute | None:
    """The attribute a row names; keys match ignoring case, as in rules."""
    return attributes.get(key) or attributes.get(key.lower())


def operators(attribute: Attribute | None, attr: str) -> list[str]:
    """The operators that apply to the attribute, in the language's order."""
    if attr == SEGMENT:
        return [IN_SEGMENT, NOT_IN_SEGMENT]
    if attribute is None:
        return [op.value for op in Op]
    own = list(dates.RELATIVE_OPS) if attribute.type.is_temporal else []
    return own + [op.value for op in Op if op in BY_TYPE[attribute.type]]


def label(op: str, attribute: Attribute | None) -> str:
    if attribute is not None and attribute.type.is_temporal:
        return dates.ON.get(op) or TEMPORAL_LABELS.get(op) or LABELS.get(op, op)
    return LABELS.get(op, op)


def widget(attribute: Attribute | None, attr: str, op: str) -> Widget:
    if attr == SEGMENT:
        return Widget.SEGMENT
    arity = _arity(op)
    kind = attribute.type if attribute is not None else AttrType.STRING
    if op in dates.RELATIVE_OPS and kind.is_temporal:
        return Widget.RELATIVE
    if arity is None or arity is Arity.NONE:
        return Widget.NONE
    if kind.is_temporal and arity in (Arity.ONE, Arity.PAIR):
        return Widget.DATE if arity is Arity.ONE else Widget.DATES
    if arity is Arity.PAIR:
        return Widget.PAIR
    if kind is AttrType.ENUM and op in ("=", "!="):
        return Widget.SELECT
    if arity is Arity.LIST:
        return Widget.MULTI if kind is AttrType.ENUM else Widget.LIST
    if kind is AttrType.BOOLEAN:
        return Widget.BOOLEAN
    return Widget.NUMBER if kind.is_numeric else Widget.TEXT


def _arity(op: str) -> Arity | None:
    try:
        return Op(op).arity
    except ValueError:
        return None


# -- form fields to rows --------------------------------------------------------------

ROW_FIELD = re.compile(r"row-(\d{1,3})(?:\.(\d{1,3}))?-(attr|op|value)")
GROUP_FIELD = re.compile(r"group-(\d{1,3})")


def rows_from_form(fields: Iterable[tuple[str, str]]) -> list[Item]:
    """The rows of a builder form: ``row-3-attr``, ``row-3.1-value``, ``group-3``."""
    rows: dict[tuple[int, int], Row] = {}
    groups: set[int] = set()
    for name, value in fields:
        if match := GROUP_FIELD.fullmatch(name):
            groups.add(int(match[1]))
        elif match := ROW_FIELD.fullmatch(name):
            index = (int(match[1]), int(match[2]) if match[2] is not None else -1)
            _set(rows.setdefault(index, Row()), match[3], value)
    if len(rows) > MAX_ROWS:
        raise BuilderError(f"a rule can have at most {MAX_ROWS} rows")
    return _assemble(rows, groups)


def _set(row: Row, part: str, value: str) -> None:
    if part == "value":
        row.values.append(value)
    else:
        setattr(row, part, value)


def _assemble(rows: dict[tuple[int, int], Row], groups: set[int]) -> list[Item]:
    items: dict[int, Item] = {i: Group() for i in groups}
    for (top, inner), row in sorted(rows.items()):
        holder = items.get(top)
        if isinstance(holder, Group):
            holder.rows.append(row)
        elif inner == -1:
            items[top] = row
    return [items[i] for i in sorted(items)]


def flat(items: Iterable[Item]) -> list[Row]:
    """Every row, in order (the rule's text prints those with an attribute in this order)."""
    return [row for item in items for row in (item.rows if isinstance(item, Group) else [item])]


# -- rows to a rule -----------------------------------------------------------------------


class BadValueError(ValueError):
    pass


class MissingValueError(BadValueError):
    """A row whose value is not typed yet: an error only when saving."""


def to_rule(items: list[Item], attributes: Attributes, *, strict: bool = True) -> Rule | None:
    """The JSON form of the rows, or ``None`` when there are none, or some row has
    an error (each such row gets its ``error``), or (unless ``strict``) a row still
    lacks its value (it is ``pending``: the preview waits, nothing is red yet)."""
    parts = [_part(item, attributes, strict) for item in items]
    if any(row.error or row.pending for row in flat(items)):
        return None
    kept = [p for p in parts if p is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else {"and": kept}


def _part(item: Item, attributes: Attributes, strict: bool) -> Rule | None:
    if isinstance(item, Row):
        return _leaf(item, attributes, strict)
    leaves = [leaf for row in item.rows if (leaf := _leaf(row, attributes, strict)) is not None]
    if len(leaves) < 2:
        return leaves[0] if leaves else None
    return {"or": leaves}


def _leaf(row: Row, attributes: Attributes, strict: bool) -> Rule | None:
    if not row.attr:
        return None  # a row not filled in yet says nothing
    try:
        return _condition(row, attributes)
    except MissingValueError as problem:
        row.error, row.pending = (str(problem), False) if strict else ("", True)
    except BadValueError as problem:
        row.error = str(problem)
    return None


def _condition(row: Row, attributes: Attributes) -> Rule:
    if row.attr == SEGMENT:
        return _segment(row)
    if row.op in dates.RELATIVE_OPS:
        return _relative(row)
    if _arity(row.op) is None:
        raise BadValueError("Choose an operator.")
    op = Op(row.op)
    attribute = lookup(attributes, row.attr)
    out: Rule = {"attr": row.attr, "op": op.value}
    if op.arity is not Arity.NONE:
        out["value"] = _value(row.values, op.arity, attribute)
    return out


def _relative(row: Row) -> Rule:
    try:
        written = dates.value(row.values)
    except dates.RelativeValueError as problem:
        raise BadValueError(str(problem)) from None
    if written is None:
        raise MissingValueError("Enter a number.")
    return {"attr": row.attr, "op": dates.RELATIVE_OPS[row.op].value, "value": written}


def _segment(row: Row) -> Rule:
    code = row.values[0].strip() if row.values else ""
    if not code:
        raise MissingValueError("Choose a segment.")
    if row.op == NOT_IN_SEGMENT:
        return {"not": {"segment": code}}
    return {"segment": code}


def _value(texts: list[str], arity: Arity, attribute: Attribute | None) -> Any:
    kind = attribute.type if attribute is not None else AttrType.STRING
    if arity is Arity.ONE:
        text = texts[0].strip() if texts else ""  # "-30d " and "Westton 4 " mean no space
        if not text:
            raise MissingValueError("Enter a value.")
        return _scalar(text, kind)
    if arity is Arity.PAIR:
        if len(texts) < 2 or not all(t.strip() for t in texts[:2]):
            raise MissingValueError("Enter both ends of the range.")
        return [_scalar(t.strip(), kind) for t in texts[:2]]
    items = texts if len(texts) > 1 else [t.strip() for t in texts[0].split(",")] if texts else []
    items = [i.strip() for i in items if i.strip()]
    if not items:
        raise MissingValueError("Enter one or more values, separated by commas.")
    return [_scalar(i, kind) for i in items]


BOOLEANS = {"yes": True, "true": True, "no": False, "false": False}
INTEGER = re.compile(r"[+-]?\d{1,18}")


def _scalar(text: str, kind: AttrType) -> Any:
    if kind.is_numeric:
        return _number(text.strip())
    if kind is AttrType.BOOLEAN:
        if text.strip().casefold() not in BOOLEANS:
            raise BadValueError("Choose yes or no.")
        return BOOLEANS[text.strip().casefold()]
    return text


def _number(text: str) -> int | float:
    if INTEGER.fullmatch(text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        raise BadValueError(f"{text!r} is not a number; write it like 100 or 19.99") from None
    if not math.isfinite(number):
        raise BadValueError(f"{text!r} is not a number; write it like 100 or 19.99")
    return number


# -- a rule to rows -------------------------------------------------------------------------


def rows_from_rule(rule: Mapping[str, Any] | None, attributes: Attributes) -> list[Item] | None:
    """The rows of a rule's JSON form, or ``None`` when rows cannot show it."""
    if rule is None:
        return []
    if "or" in rule:
        group = _group(rule["or"], attributes)
        return [group] if group is not None else None
    parts = rule.get("and", [rule])
    items: list[Item] = []
    for part in parts:
        item = _group(part["or"], attributes) if "or" in part else _row(part, attributes)
        if item is None:
            return None
        items.append(item)
    return items


def _group(parts: list[Mapping[str, Any]], attributes: Attributes) -> Group | None:
    rows = [_row(part, attributes) for part in parts]
    if any(row is None for row in rows):
        return None
    return Group([row for row in rows if row is not None])


def _row(node: Mapping[str, Any], attributes: Attributes) -> Row | None:
    if "segment" in node:
        return Row(SEGMENT, IN_SEGMENT, [node["segment"]])
    inner = node.get("not")
    if isinstance(inner, Mapping) and "segment" in inner:
        return Row(SEGMENT, NOT_IN_SEGMENT, [inner["segment"]])
    if "attr" not in node or "fn" in node or "each" in node:
        return None  # rows compare an attribute itself: not a function of it, nor its items
    if isinstance(node.get("value"), Mapping):
        return None  # nor with another attribute
    attribute = lookup(attributes, node["attr"])
    key = attribute.key if attribute is not None else node["attr"]
    relative = dates.row_of(node["op"], node.get("value"))
    if relative is not None and attribute is not None and attribute.type.is_temporal:
        return Row(key, relative[0], relative[1])
    texts = _texts(node.get("value"), widget(attribute, key, node["op"]), attribute)
    return Row(key, node["op"], texts) if texts is not None else None


def _texts(value: Any, shown: Widget, attribute: Attribute | None) -> list[str] | None:
    if shown is Widget.NONE:
        return []
    if shown is Widget.MULTI:
        return [_show(v, attribute) for v in value]
    if shown in (Widget.PAIR, Widget.DATES):
        return [_show(v, attribute) for v in value]
    if shown is Widget.LIST:
        items = [_show(v, attribute) for v in value]
        if any("," in i or i != i.strip() or not i for i in items):
            return None  # a comma-separated field could not give these values back
        return [", ".join(items)]
    if isinstance(value, str) and value != value.strip():
        return None  # rows trim what is typed: text keeps the spaces this value has
    return [_show(value, attribute)]


def _show(value: Any, attribute: Attribute | None) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and attribute is not None and attribute.type is AttrType.ENUM:
        return attribute.folded_values.get(value.casefold(), value)
    return str(value)
