"""What the rule editor's template draws: each row with its choices, and the preview."""

from __future__ import annotations

from dataclasses import dataclass, field

from segmentry.engine.shop import Shop
from segmentry.errors import RuleError
from segmentry.model.schema import Attribute, Kind
from segmentry.web import editor as ed
from segmentry.web import rulebuilder as rb
from segmentry.web.rulebuilder import Attributes, Group, Row, Widget


@dataclass(frozen=True, slots=True)
class RowView:
    path: str
    row: Row
    attribute: Attribute | None
    ops: list[tuple[str, str]]
    widget: str
    choices: list[str]

    def value(self, index: int = 0) -> str:
        return self.row.values[index] if index < len(self.row.values) else ""


@dataclass(frozen=True, slots=True)
class ItemView:
    index: int
    rows: list[RowView]
    group: bool


def _choices(shown: Widget, attribute: Attribute | None, row: Row, codes: list[str]) -> list[str]:
    if shown is Widget.SEGMENT:
        known = codes
    elif shown is Widget.BOOLEAN:
        known = ["yes", "no"]
    elif shown in (Widget.SELECT, Widget.MULTI) and attribute is not None:
        known = list(attribute.values)
    else:
        return []
    # A value the choices lack (typed as text, or since removed) stays visible, so
    # the error the engine reports about it can be seen and fixed.
    return known + [v for v in row.values if v and v not in known]


def row_view(path: str, row: Row, attributes: Attributes, codes: list[str]) -> RowView:
    attribute = rb.lookup(attributes, row.attr) if row.attr else None
    ops = rb.operators(attribute, row.attr) if row.attr else []
    shown = rb.widget(attribute, row.attr, row.op) if row.attr else Widget.NONE
    return RowView(
        path,
        row,
        attribute,
        [(op, rb.label(op, attribute)) for op in ops],
        shown.value,
        _choices(shown, attribute, row, codes),
    )


def items_view(editor: ed.Editor, attributes: Attributes, codes: list[str]) -> list[ItemView]:
    out = []
    for i, item in enumerate(editor.items):
        if isinstance(item, Group):
            rows = [row_view(f"{i}.{j}", r, attributes, codes) for j, r in enumerate(item.rows)]
            out.append(ItemView(i, rows, group=True))
        else:
            out.append(ItemView(i, [row_view(str(i), item, attributes, codes)], group=False))
    return out


@dataclass
class PreviewView:
    """``state`` is ``empty`` (no rule yet), ``pending`` (a value to type), ``invalid``
    (errors shown) or ``ready``."""

    state: str
    kind: Kind
    text: str = ""
    count: int = 0
    sample: list[str] = field(default_factory=list)
    saved: bool = False
    entering: int = 0
    leaving: int = 0
    sample_entering: list[str] = field(default_factory=list)
    sample_leaving: list[str] = field(default_factory=list)


def preview(
    shop: Shop, kind: Kind, code: str | None, editor: ed.Editor, attributes: Attributes
) -> PreviewView:
    """The count and a sample of what the editor's rule selects (and, for a saved
    segment, who would enter and leave); errors go into the editor."""
    rule = ed.source(editor, attributes, strict=False)
    if editor.failed:
        return PreviewView("invalid", kind)
    if editor.pending:
        return PreviewView("pending", kind)
    if rule is None:
        return PreviewView("empty", kind)
    text = ed.as_text(rule)
    try:
        if code is None:
            found = shop.preview(kind, rule)
            return PreviewView("ready", kind, text, found.count, found.sample)
        edit = shop.preview_edit(code, rule)
    except RuleError as error:
        ed.place(editor, rule, error)
        return PreviewView("invalid", kind, text)
    return PreviewView(
        "ready",
        kind,
        text,
        edit.count,
        saved=True,
        entering=edit.entering,
        leaving=edit.leaving,
        sample_entering=edit.sample_entering,
        sample_leaving=edit.sample_leaving,
    )
