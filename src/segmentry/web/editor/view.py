"""What the rule editor's template draws of its rows: each row's operators with their
labels, the control its value takes, its choices (segments, enum values, the
attributes it may compare with) and a behaviour row's condition and window."""

from __future__ import annotations

from dataclasses import dataclass, field

from segmentry.model.schema import Attribute
from segmentry.rules.operators import Act
from segmentry.web.editor import behaviour, builder, dates, shapes
from segmentry.web.editor.builder import Attributes, Group, Row, Widget
from segmentry.web.editor.editing import Editor


@dataclass(frozen=True, slots=True)
class RowView:
    path: str
    row: Row
    attribute: Attribute | None
    ops: list[tuple[str, str]]
    widget: str
    choices: list[str]
    units: list[tuple[str, str]]
    act: Act | None = None
    """The behaviour function of the row, if it is one (its window and condition show)."""
    where: list[tuple[str, str]] = field(default_factory=list)
    """A behaviour row's condition choices: "any product", each product segment…"""
    others: list[tuple[str, str]] = field(default_factory=list)
    """The attributes the row may compare with (none: it compares with a value)."""

    @property
    def against(self) -> list[tuple[str, str]]:
        return shapes.AGAINST

    @property
    def hint(self) -> str:
        """The placeholder of an anniversary's boxes."""
        return "today, +7d or 2024-03-01" if shapes.is_anniversary(self.row.attr) else ""

    @property
    def which(self) -> str:
        """The label of a behaviour row's condition: "Which orders"."""
        return behaviour.WHICH[behaviour.condition_kind(self.act)] if self.act else ""

    @property
    def windows(self) -> list[tuple[str, str]]:
        return behaviour.WINDOWS

    def value(self, index: int = 0) -> str:
        return self.row.values[index] if index < len(self.row.values) else ""

    def day(self, index: int = 0) -> bool:
        """Whether the value fits a date picker (else it is shown as the text it is)."""
        return dates.is_day(self.value(index))


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
    # the error the library reports about it can be seen and fixed.
    return known + [v for v in row.values if v and v not in known]


def row_view(
    path: str, row: Row, attributes: Attributes, codes: list[str], cross: list[str]
) -> RowView:
    """What the template draws of a row; ``codes`` are the segments of the rule's kind
    (``IN SEGMENT``), ``cross`` those of the other kind (a behaviour row's condition)."""
    attribute = builder.lookup(attributes, row.attr) if row.attr else None
    ops = builder.operators(attribute, row.attr) if row.attr else []
    shown = builder.widget(attribute, row.attr, row.op) if row.attr else Widget.NONE
    act = behaviour.act_of(row.attr)
    return RowView(
        path,
        row,
        attribute,
        [(op, builder.label(op, attribute)) for op in ops],
        shown.value,
        _choices(shown, attribute, row, codes),
        list(dates.UNITS.items()) if act else dates.units(attribute),
        act,
        behaviour.where_choices(act, cross, row.where) if act else [],
        _others(attributes, attribute, row),
    )


def _others(attributes: Attributes, attribute: Attribute | None, row: Row) -> list[tuple[str, str]]:
    found = shapes.others(attributes.values(), attribute, row.op) if row.attr else []
    if row.other and row.other not in {key for key, _ in found}:
        found.append((row.other, f"{row.other} (unknown)"))  # so its error can be fixed
    return found


def items_view(
    editor: Editor, attributes: Attributes, codes: list[str], cross: list[str]
) -> list[ItemView]:
    out = []
    for i, item in enumerate(editor.items):
        rows = item.rows if isinstance(item, Group) else [item]
        called = [f"{i}.{j}" for j in range(len(rows))] if isinstance(item, Group) else [str(i)]
        views = [
            row_view(p, r, attributes, codes, cross) for p, r in zip(called, rows, strict=True)
        ]
        out.append(ItemView(i, views, group=isinstance(item, Group)))
    return out
