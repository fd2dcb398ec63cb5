"""The rule editor's live preview: how many the rule selects now and a sample, by
name (for a saved segment, who would enter and leave), and the shop's values
suggested for a row's text box. Nothing is written."""

from __future__ import annotations

from dataclasses import dataclass, field

from segmentry.engine.shop import Shop
from segmentry.errors import RuleError
from segmentry.model.schema import AttrType, Kind
from segmentry.web import naming
from segmentry.web.editor import builder
from segmentry.web.editor.builder import Attributes, Widget
from segmentry.web.editor.editing import BUILDER, Editor, as_text, paths, place, source


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
    names: dict[str, str] = field(default_factory=dict)
    """What the sampled products or customers are called, by id."""


def preview(
    shop: Shop, kind: Kind, code: str | None, editor: Editor, attributes: Attributes
) -> PreviewView:
    """The count and a sample of what the editor's rule selects (and, for a saved
    segment, who would enter and leave); errors go into the editor."""
    rule = source(editor, attributes, strict=False)
    if editor.failed:
        return PreviewView("invalid", kind)
    if editor.pending:
        return PreviewView("pending", kind)
    if rule is None:
        return PreviewView("empty", kind)
    text = as_text(rule)
    try:
        if code is None:
            found = shop.preview(kind, rule)
            called = naming.names(shop, kind, found.sample)
            return PreviewView("ready", kind, text, found.count, found.sample, names=called)
        edit = shop.preview_edit(code, rule)
    except RuleError as error:
        place(editor, rule, error)
        return PreviewView("invalid", kind, text)
    called = naming.names(shop, kind, [*edit.sample_entering, *edit.sample_leaving])
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
        names=called,
    )


SUGGESTIONS = 20
SUGGESTED = (AttrType.STRING, AttrType.ENUM, AttrType.STRING_LIST)


def suggestions(
    shop: Shop, kind: Kind, editor: Editor, attributes: Attributes
) -> dict[str, list[tuple[str, int]]]:
    """For each row typed into one text box (``brand = …``, ``tags contains …``), the
    shop's values containing what is typed so far, with how many have each."""
    out: dict[str, list[tuple[str, int]]] = {}
    if editor.mode != BUILDER:
        return out
    for path, row in zip(paths(editor), editor.rows, strict=True):
        attribute = builder.lookup(attributes, row.attr) if row.attr else None
        if attribute is None or attribute.type not in SUGGESTED:
            continue
        if builder.widget(attribute, row.attr, row.op) is Widget.TEXT and not row.against:
            typed = row.values[0] if row.values else ""
            out[path] = shop.value_counts(kind, attribute.key, typed, limit=SUGGESTIONS)
    return out
