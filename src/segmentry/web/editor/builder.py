"""The rule builder's rows, and the conversions between rows and a rule's JSON form.

The builder shows a rule as rows (attribute / operator / value) that must all
hold, and groups of rows of which any one must hold. That is exactly the rules
whose JSON form is a condition, an ``or`` of conditions, or an ``and`` of
conditions and such ``or`` groups, where a condition may also be ``IN SEGMENT``
or ``NOT IN SEGMENT``, a behaviour function whose condition and window a row
can show (see ``behaviour``), an attribute against another, ``count`` or
``anniversary`` of an attribute, or a list quantifier (see ``shapes``). Any
other rule (a NOT around a group, groups inside groups,
``purchased(brand = 'Nike')``) has no rows: :func:`rows_from_rule` answers
``None`` and the page keeps it in text mode. Rows only shape a rule; the library
checks it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from segmentry.model.schema import Attribute, AttrType
from segmentry.rules.operators import ATTRIBUTE_OPS, BY_TYPE, OPERATORS, Act, Arity, Op
from segmentry.web.editor import behaviour, dates, shapes, values
from segmentry.web.editor.behaviour import Window
from segmentry.web.editor.values import BadValueError, MissingValueError

__all__ = ["BadValueError", "MissingValueError"]  # read here by the editor and its tests

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
    window: Window = field(default_factory=Window)
    """A behaviour row's window (``@amount_spent``): "any time", "in the last"…"""
    where: str = ""
    """A behaviour row's condition: any (empty), ``channel`` or ``segment:<code>``."""
    channel: str = ""
    against: str = shapes.VALUE
    """"a value" (empty) or "another attribute": what the row compares with."""
    other: str = ""
    """The other attribute, when the row compares with one: ``original_price``."""


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
    **shapes.EACH_LABELS,
}
TEMPORAL_LABELS = {row.op.value: row.time_label for row in OPERATORS if row.time_label}


def lookup(attributes: Attributes, key: str) -> Attribute | None:
    """The attribute a row names; keys match ignoring case, as in rules. A function of
    an attribute, ``count(tags)``, is an attribute of the type the function gives."""
    return (
        attributes.get(key)
        or attributes.get(key.lower())
        or shapes.function_attribute(attributes, key)
    )


def operators(attribute: Attribute | None, attr: str) -> list[str]:
    """The operators that apply to the attribute, in the language's order."""
    if attr == SEGMENT:
        return [IN_SEGMENT, NOT_IN_SEGMENT]
    if (act := behaviour.act_of(attr)) is not None:
        return behaviour.operators(act)
    if (function := shapes.function_operators(attr)) is not None:
        return function
    if attribute is None:
        return [op.value for op in Op]
    own = list(dates.RELATIVE_OPS) if attribute.type.is_temporal else []
    each = shapes.each_operators(attribute)
    return own + [op.value for op in Op if op in BY_TYPE[attribute.type]] + each


def label(op: str, attribute: Attribute | None) -> str:
    if op in behaviour.OP_LABELS:
        return behaviour.OP_LABELS[op]
    if attribute is not None and attribute.type.is_temporal:
        return dates.ON.get(op) or TEMPORAL_LABELS.get(op) or LABELS.get(op, op)
    return LABELS.get(op, op)


def widget(attribute: Attribute | None, attr: str, op: str) -> Widget:
    if attr == SEGMENT:
        return Widget.SEGMENT
    if (act := behaviour.act_of(attr)) is not None:
        return Widget.NONE if act is Act.PURCHASED else Widget.NUMBER
    arity = _arity(op)
    kind = attribute.type if attribute is not None else AttrType.STRING
    if op in dates.RELATIVE_OPS and kind.is_temporal:
        return Widget.RELATIVE
    if op in shapes.EACH_ROW_OPS:
        return Widget.TEXT
    if arity is None or arity is Arity.NONE:
        return Widget.NONE
    if shapes.is_anniversary(attr):  # today, +7d: words a date picker cannot hold
        return Widget.PAIR if arity is Arity.PAIR else Widget.TEXT
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

ROW_FIELD = re.compile(
    r"row-(\d{1,3})(?:\.(\d{1,3}))?-"
    r"(attr|op|value|window|count|unit|since|until|where|channel|against|other)"
)
WINDOW_PARTS = {"window": "shape"} | {part: part for part in ("count", "unit", "since", "until")}
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
    elif part in WINDOW_PARTS:
        setattr(row.window, WINDOW_PARTS[part], value)
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
    if (act := behaviour.act_of(row.attr)) is not None:
        return _behaviour(act, row)
    if row.op in dates.RELATIVE_OPS:
        return _relative(row)
    if row.op in shapes.EACH_ROW_OPS:
        return shapes.each_json(row.attr, row.op, values.read(row.values, Arity.ONE, None))
    if _arity(row.op) is None:
        raise BadValueError("Choose an operator.")
    op = Op(row.op)
    out: Rule = shapes.head(row.attr) | {"op": op.value}
    if row.against == shapes.ATTRIBUTE and op in ATTRIBUTE_OPS:
        if not row.other:
            raise MissingValueError("Choose the other attribute.")
        out["value"] = {"attr": row.other}
    elif op.arity is not Arity.NONE:
        out["value"] = values.read(row.values, op.arity, lookup(attributes, row.attr))
    return out


def _relative(row: Row) -> Rule:
    try:
        written = dates.value(row.values)
    except dates.RelativeValueError as problem:
        raise BadValueError(str(problem)) from None
    if written is None:
        raise MissingValueError("Enter a number.")
    return {"attr": row.attr, "op": dates.RELATIVE_OPS[row.op].value, "value": written}


def _behaviour(act: Act, row: Row) -> Rule:
    text = row.values[0].strip() if row.values else ""
    number = values.number(text) if text and act is not Act.PURCHASED else None
    try:
        return behaviour.to_json(
            act, row.op, number, window=row.window, where=row.where, channel=row.channel
        )
    except behaviour.WindowError as problem:
        if problem.missing:
            raise MissingValueError(str(problem)) from None
        raise BadValueError(str(problem)) from None


def _segment(row: Row) -> Rule:
    code = row.values[0].strip() if row.values else ""
    if not code:
        raise MissingValueError("Choose a segment.")
    if row.op == NOT_IN_SEGMENT:
        return {"not": {"segment": code}}
    return {"segment": code}


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
    if "fn" in (inner if isinstance(inner, Mapping) else node) and "attr" not in node:
        found = behaviour.shown(node)  # a behaviour function, NOT purchased(...) included
        return None if found is None else Row(found.key, found.op, found.values, **found.parts)
    if "attr" not in node:
        return None
    if "fn" in node or "each" in node or isinstance(node.get("value"), Mapping):
        shape = shapes.shown(node, attributes)  # a function of it, its items, another one
        if shape is None:
            return None
        against = shapes.ATTRIBUTE if shape[3] else shapes.VALUE
        return Row(*shape[:3], against=against, other=shape[3])
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
