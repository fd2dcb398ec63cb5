"""The rule editor: its state (rows or text), the edits its buttons make (and the
control each leaves the focus on), where the library's errors go (at a row, or at a
line and column of the text), and what its template draws (the live preview is in
``live``).

A form carries the whole state (``mode``, ``rule_text``, the rows), so every
request can rebuild it: there is nothing kept on the server between requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from segmentry.errors import Diagnostic, RuleError
from segmentry.model.schema import Attribute
from segmentry.rules.ast import Behaviour, Condition, InSegment, Not, Span, walk
from segmentry.rules.jsonform import from_json, to_json
from segmentry.rules.load import RuleSource
from segmentry.rules.parser import parse
from segmentry.rules.printer import format_rule
from segmentry.web.editor import builder, shapes
from segmentry.web.editor.builder import Attributes, Group, Item, Row, Widget

BUILDER, TEXT = "builder", "text"
NO_ROWS_NOTE = (
    "This rule uses a NOT around a group, groups within groups, a behaviour function "
    "whose condition or window rows cannot show (such as purchased(brand = 'Nike')) "
    "or a count compared with an attribute: edit it as text."
)


@dataclass
class Editor:
    mode: str = BUILDER
    items: list[Item] = field(default_factory=list)
    text: str = ""
    note: str = ""
    errors: list[str] = field(default_factory=list)
    text_errors: list[Diagnostic] = field(default_factory=list)
    focus: str = ""
    """The id of the control a button leaves the focus on (its ``autofocus``): the new
    row's first control, the next row's after a remove, the text after "Text"."""

    @property
    def rows(self) -> list[Row]:
        return builder.flat(self.items)

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.text_errors or any(r.error for r in self.rows))

    @property
    def pending(self) -> bool:
        return any(r.pending for r in self.rows)


def from_form(fields: Iterable[tuple[str, str]], attributes: Attributes) -> Editor:
    pairs = list(fields)
    values = dict(pairs)
    mode = TEXT if values.get("mode") == TEXT else BUILDER
    editor = Editor(mode, text=values.get("rule_text", ""))
    try:
        editor.items = builder.rows_from_form(pairs)
    except builder.BuilderError as problem:
        editor.errors.append(str(problem))
    before = [
        (values.get(f"row-{p}-shown", ""), values.get(f"row-{p}-shownop", ""))
        for p in paths(editor)
    ]
    moved = [
        _against_moved(values, p, row) for p, row in zip(paths(editor), editor.rows, strict=True)
    ]
    _normalise(editor, attributes, before)
    _follow_against(editor, moved)
    return editor


def from_rule(rule_json: Mapping[str, Any] | None, attributes: Attributes) -> Editor:
    """The editor of a saved rule: rows when they can show it, text otherwise."""
    items = builder.rows_from_rule(rule_json, attributes)
    if items is not None:
        return Editor(BUILDER, items)
    text = format_rule(from_json(dict(rule_json or {})))
    return Editor(TEXT, text=text, note=NO_ROWS_NOTE)


def paths(editor: Editor) -> list[str]:
    """The field path of every row, in order: ``3`` or ``3.1`` (row 1 of group 3)."""
    out: list[str] = []
    for i, item in enumerate(editor.items):
        if isinstance(item, Group):
            out.extend(f"{i}.{j}" for j in range(len(item.rows)))
        else:
            out.append(str(i))
    return out


def _normalise(editor: Editor, attributes: Attributes, shown: list[tuple[str, str]]) -> None:
    """After the attribute of a row changed: an operator that fits, a fresh value; after
    its operator changed to one that asks for its value otherwise, a fresh value."""
    padded = shown + [("", "")] * len(editor.rows)
    for row, (before, before_op) in zip(editor.rows, padded, strict=False):
        if not row.attr:
            continue
        attribute = builder.lookup(attributes, row.attr)
        if before and before != row.attr:
            row.values, row.where, row.channel, row.against, row.other = [], "", "", "", ""
        elif before_op and before_op != row.op:
            was = builder.widget(attribute, row.attr, before_op)
            if was is not builder.widget(attribute, row.attr, row.op):
                row.values = []
        choices = builder.operators(attribute, row.attr)
        if row.op not in choices:
            row.op = choices[0]
        if not row.values and builder.widget(attribute, row.attr, row.op) is Widget.BOOLEAN:
            row.values = ["yes"]
        if not row.values and builder.widget(attribute, row.attr, row.op) is Widget.SELECT:
            row.values = list(attribute.values[:1]) if attribute else []
        _fit_shape(row, attributes, attribute)


def _fit_shape(row: Row, attributes: Attributes, attribute: Attribute | None) -> None:
    """An anniversary's boxes start at ``today`` (and ``+7d``); "another attribute"
    only where the operator compares two, and then one of them is chosen."""
    if not row.values and shapes.is_anniversary(row.attr):
        pair = builder.widget(attribute, row.attr, row.op) is Widget.PAIR
        row.values = list(shapes.ANNIVERSARY_HINTS[: 2 if pair else 1])
    others = [key for key, _ in shapes.others(attributes.values(), attribute, row.op)]
    if row.against != shapes.ATTRIBUTE or not others:
        row.against, row.other = shapes.VALUE, ""
    elif not row.other:
        row.other = others[0]


def _against_moved(values: Mapping[str, str], path: str, row: Row) -> bool:
    """Whether "Compare with" is what changed in a row (not its attribute or operator)."""
    was = values.get(f"row-{path}-shownagainst")
    shown = (values.get(f"row-{path}-shown"), values.get(f"row-{path}-shownop"))
    return was is not None and was != row.against and shown == (row.attr, row.op)


def _follow_against(editor: Editor, moved: list[bool]) -> None:
    """After "Compare with" changed, the focus goes to what takes the value's place."""
    for path, row, changed in zip(paths(editor), editor.rows, moved, strict=True):
        if changed:
            editor.focus = f"row-{path}-other" if row.against else f"row-{path}-value"


# -- the buttons --------------------------------------------------------------------------


def apply(editor: Editor, action: str, attributes: Attributes) -> None:
    """One button of the editor: add or remove rows, or switch between rows and text."""
    verb, _, where = action.partition(":")
    if verb == "add-row":
        editor.items.append(Row())
        editor.focus = _attr_id(f"{len(editor.items) - 1}")
    elif verb == "add-group":
        editor.items.append(Group([Row(), Row()]))
        editor.focus = _attr_id(f"{len(editor.items) - 1}.0")
    elif verb == "add-to":
        _add_to(editor, where)
    elif verb == "remove":
        _remove(editor, where)
    elif verb == "to-text":
        to_text(editor, attributes)
        editor.focus = "rule-text" if editor.mode == TEXT else _first_error(editor)
    elif verb == "to-builder":
        to_builder(editor, attributes)
        editor.focus = _first_row(editor) if editor.mode == BUILDER else "rule-text"
    if len(editor.rows) > builder.MAX_ROWS:
        editor.items.pop()
        editor.errors.append(f"a rule can have at most {builder.MAX_ROWS} rows")
        editor.focus = ADD_ROW


ADD_ROW = "add-row"
"""The id of the "Add condition" button: the focus goes there when no row is left."""


def _attr_id(path: str) -> str:
    return f"row-{path}-attr"


def _first_row(editor: Editor) -> str:
    found = paths(editor)
    return _attr_id(found[0]) if found else ADD_ROW


def _first_error(editor: Editor) -> str:
    for path, row in zip(paths(editor), editor.rows, strict=True):
        if row.error and row.against:
            return f"row-{path}-other"
        if row.error:
            valued = builder.widget(None, row.attr, row.op) is not Widget.NONE
            return f"row-{path}-value" if row.attr and valued else _attr_id(path)
    return _first_row(editor)


def _add_to(editor: Editor, where: str) -> None:
    if where.isdigit() and int(where) < len(editor.items):
        item = editor.items[int(where)]
        if isinstance(item, Group):
            item.rows.append(Row())
            editor.focus = _attr_id(f"{where}.{len(item.rows) - 1}")


def _remove(editor: Editor, where: str) -> None:
    """Remove a row (a group goes with its last row); the focus goes to the row that
    took its place, else the one before it, else "Add condition"."""
    top, _, inner = where.partition(".")
    if not top.isdigit() or int(top) >= len(editor.items):
        return
    before = paths(editor).index(where) if where in paths(editor) else 0
    item = editor.items[int(top)]
    one_of_group = isinstance(item, Group) and inner.isdigit() and int(inner) < len(item.rows)
    if isinstance(item, Group) and one_of_group:
        del item.rows[int(inner)]
    if not one_of_group or not isinstance(item, Group) or not item.rows:
        del editor.items[int(top)]
    left = paths(editor)
    editor.focus = _attr_id(left[min(before, len(left) - 1)]) if left else ADD_ROW


def to_text(editor: Editor, attributes: Attributes) -> None:
    """Rows to text; rows with errors stay rows, with their errors shown."""
    rule = builder_rule(editor, attributes)
    if editor.failed:
        return
    editor.mode, editor.note = TEXT, ""
    editor.text = format_rule(from_json(rule)) if rule is not None else ""


def to_builder(editor: Editor, attributes: Attributes) -> None:
    """Text to rows, when the text parses and rows can show it."""
    if not editor.text.strip():
        editor.mode, editor.items, editor.note = BUILDER, [], ""
        return
    try:
        rule = to_json(parse(editor.text))
    except RuleError as error:
        editor.text_errors = list(error.diagnostics)
        editor.note = "Fix the rule's text first: rows can only show a rule that reads."
        return
    items = builder.rows_from_rule(rule, attributes)
    if items is None:
        editor.note = NO_ROWS_NOTE
        return
    editor.mode, editor.items, editor.note = BUILDER, items, ""


# -- the rule and its errors ----------------------------------------------------------------


def builder_rule(
    editor: Editor, attributes: Attributes, *, strict: bool = True
) -> dict[str, Any] | None:
    """The JSON form of the rows (``None`` when there are none or one has an error)."""
    rule = builder.to_rule(editor.items, attributes, strict=strict)
    if rule is None:
        return None
    try:
        from_json(rule)  # its shape: a value too long, a number out of range
    except RuleError as error:
        editor.errors.extend(d.message for d in error.diagnostics)
        return None
    return rule


def source(editor: Editor, attributes: Attributes, *, strict: bool = True) -> RuleSource | None:
    """What to hand the library: the text as typed, or the rows' JSON form (a
    preview is not ``strict``: it waits for values not typed yet)."""
    if editor.mode == TEXT:
        return editor.text if editor.text.strip() else None
    return builder_rule(editor, attributes, strict=strict)


def as_text(rule: RuleSource | None) -> str:
    """The canonical text of rows' JSON form (shown under the rows, to keep both in view)."""
    if rule is None or isinstance(rule, str):
        return rule or ""
    return format_rule(from_json(rule))


def place(editor: Editor, rule: RuleSource, error: RuleError) -> None:
    """Put the library's errors where the user will look: the text, or the rows."""
    if isinstance(rule, str):
        editor.text_errors = list(error.diagnostics)
        return
    spans = _row_spans(as_text(rule))
    shown = [row for row in editor.rows if row.attr]  # the rows the rule was made of
    for diagnostic in error.diagnostics:
        row = _row_at(shown, spans, diagnostic.offset)
        message = diagnostic.message + (f" ({diagnostic.hint})" if diagnostic.hint else "")
        if row is None:
            editor.errors.append(message)
        else:
            row.error = f"{row.error} {message}".strip()


def _row_spans(text: str) -> list[Span]:
    """Where each row's condition sits in the canonical text, in row order."""
    spans: list[Span] = []
    negated: set[int] = set()
    for node in walk(parse(text)):
        if isinstance(node, Not) and isinstance(node.item, InSegment | Behaviour):
            spans.append(node.span)
            negated.add(id(node.item))
        elif isinstance(node, Condition) or (
            isinstance(node, InSegment | Behaviour) and id(node) not in negated
        ):
            spans.append(node.span)
    return spans


def _row_at(rows: list[Row], spans: list[Span], offset: int) -> Row | None:
    for row, span in zip(rows, spans, strict=False):
        if span.start <= offset < max(span.end, span.start + 1):
            return row
    return None


def caret(diagnostic: Diagnostic, text: str) -> tuple[str, str]:
    """The line of ``text`` a problem is on (around the problem, if long), and a caret
    line under the problem."""
    return diagnostic.excerpt(text)
