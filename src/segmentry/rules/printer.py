"""The canonical text form of a rule.

One layout: keywords upper-case, strings in single quotes, temporal literals
bare, one space around operators. A rule that fits in ``width`` columns is one
line; a longer group puts each item on its own line, led by its AND/OR, and
opens nested groups on their own indented lines::

    brand = 'Nike'
    AND price > 100
    AND (
      country = 'ES'
      OR country = 'PT'
    )

Nested groups are always parenthesised, even where precedence would not need
it, so the structure of the tree is visible and ``parse(format(r)) == r``.
A behaviour function that does not fit puts its condition and each end of its
window on lines of their own, and its ')' back at the line's indentation;
window ends are printed in their canonical spelling (``-30d``).
"""

from __future__ import annotations

from decimal import Decimal

from segmentry.model import temporal
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
from segmentry.rules.operators import Arity

WIDTH = 80
ESCAPED = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\x00": "\\0"}
ESCAPE_LETTERS = frozenset("ntr0\\'\"xuU")


def format_rule(node: Node, width: int = WIDTH) -> str:
    """The canonical text of ``node``."""
    return _block(node, 0, width)


def format_value(value: Value) -> str:
    """A literal or list as the text form writes it."""
    if isinstance(value, tuple):
        return "(" + ", ".join(format_scalar(v) for v in value) + ")"
    if value is None:
        return ""
    if isinstance(value, AttrRef):
        return value.attr
    return format_scalar(value)


def format_scalar(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _format_float(value)
    if temporal.is_canonical(value):
        return value
    return quote(value)


def _format_float(value: float) -> str:
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text if "." in text else text + ".0"


def quote(text: str) -> str:
    """``text`` in single quotes, escaped so the lexer reads back exactly ``text``."""
    out = []
    for index, char in enumerate(text):
        if char == "\\":
            following = text[index + 1 : index + 2]
            # A lone backslash before a non-escape letter reads back as itself,
            # which keeps regular expressions such as '^\d+$' readable.
            out.append("\\" if _reads_back_alone(following) else "\\\\")
        elif char in ESCAPED:
            out.append(ESCAPED[char])
        elif _verbatim(char):
            out.append(char)
        else:
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
    return "'" + "".join(out) + "'"


def _reads_back_alone(following: str) -> bool:
    """Whether a backslash before ``following`` reads back as itself without doubling."""
    return bool(following) and following not in ESCAPE_LETTERS and _verbatim(following)


def _verbatim(char: str) -> bool:
    return char not in ESCAPED and char.isprintable()


def flat(node: Node) -> str:
    """``node`` on one line."""
    match node:
        case Condition(_, op, value):
            subject = node.subject
            if op.arity is Arity.PAIR and isinstance(value, tuple) and len(value) == 2:
                low, high = format_scalar(value[0]), format_scalar(value[1])
                return f"{subject} {op.text} {low} AND {high}"
            rest = format_value(value)
            return f"{subject} {op.text}" + (f" {rest}" if rest else "")
        case InSegment(code):
            return f"IN SEGMENT {quote(code)}"
        case Behaviour():
            inner = "" if node.where is None else flat(node.where)
            return _call(node, [inner] if inner else [])
        case Not(item):
            inner = flat(item)
            return f"NOT ({inner})" if isinstance(item, And | Or) else f"NOT {inner}"
        case And(items) | Or(items):
            word = " AND " if isinstance(node, And) else " OR "
            return word.join(f"({flat(i)})" if isinstance(i, And | Or) else flat(i) for i in items)


def _call(node: Behaviour, parts: list[str], pad: str | None = None) -> str:
    """``name(parts..., since: a, until: b) op value``; with ``pad``, one part a line."""
    window = [f"{word}: {_temporal(end)}" for word, end in _ends(node)]
    items = [*parts, *window]
    if pad is not None and items:
        inside = f",\n{pad}  ".join(items)
        call = f"{node.act.value}(\n{pad}  {inside}\n{pad})"
    else:
        call = f"{node.act.value}({', '.join(items)})"
    if node.op is None or node.value is None:
        return call
    return f"{call} {node.op.text} {format_scalar(node.value)}"


def _ends(node: Behaviour) -> list[tuple[str, str]]:
    ends = (("since", node.since), ("until", node.until))
    return [(word, end) for word, end in ends if end is not None]


def _temporal(text: str) -> str:
    """A window end in its canonical spelling (the tree may hold another, from a program)."""
    try:
        value = temporal.read_temporal(text)
    except temporal.TemporalError:
        value = None
    return temporal.canonical(value) if value is not None else quote(text)


def _block(node: Node, indent: int, width: int) -> str:
    line = flat(node)
    if indent + len(line) <= width or isinstance(node, Condition | InSegment):
        return line
    pad = " " * indent
    if isinstance(node, Behaviour):
        return _behaviour(node, indent, width)
    if isinstance(node, Not):
        if isinstance(node.item, And | Or):
            return f"NOT {_nested(node.item, indent, width)}"
        if isinstance(node.item, Behaviour):
            return _behaviour(node, indent, width)
        return "NOT " + _block(node.item, indent + 4, width)
    assert isinstance(node, And | Or)
    word = "AND" if isinstance(node, And) else "OR"
    parts = [_item(item, indent, width) for item in node.items]
    return parts[0] + "".join(f"\n{pad}{word} {part}" for part in parts[1:])


def _item(item: Node, indent: int, width: int) -> str:
    if isinstance(item, And | Or):
        return _nested(item, indent, width)
    if isinstance(item, Behaviour) or (isinstance(item, Not) and isinstance(item.item, Behaviour)):
        return _behaviour(item, indent, width)
    return _block(item, indent + 4, width)


def _behaviour(node: Behaviour | Not, indent: int, width: int) -> str:
    """A function (or NOT of one) that does not fit on its line: its condition and
    window each on a line of their own, indented, and the ')' back on the line's
    indentation."""
    line = flat(node)
    call = node.item if isinstance(node, Not) else node
    assert isinstance(call, Behaviour)
    if call.where is None or indent + 4 + len(line) <= width:
        return line
    text = _call(call, [_block(call.where, indent + 2, width)], " " * indent)
    return f"NOT {text}" if isinstance(node, Not) else text


def _nested(group: And | Or, indent: int, width: int) -> str:
    pad = " " * indent
    return f"(\n{pad}  {_block(group, indent + 2, width)}\n{pad})"
