"""Behaviour functions as rows: "Amount spent | greater than | 100 | any order | in
the last 30 days" is ``amount_spent(since: -30d) > 100``.

A row shows the functions whose condition is one of a few shapes: nothing ("any
order", "any product", "any buyer"), ``IN SEGMENT`` of a segment of the
condition's kind (a product segment for ``purchased``, a customer one for
``units_sold``), or, for orders, ``channel = '…'``; and whose window is none
("any time"), a relative ``since`` alone ("in the last [30] [days]", the people-
worded control of date rows) or calendar days ("between [date] and [date]",
either end may stay open). ``purchased`` is the only function shown negated:
"has not purchased" is ``NOT purchased(...)``. Any other shape has no row, and
the editor keeps the rule as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from segmentry.rules.operators import ACTIVITIES, BEHAVIOUR_OPS, BY_ACT, OPERATORS, Act
from segmentry.web.editor import dates

PREFIX = "@"
"""A row's attribute ``@amount_spent`` names the function (no attribute key has an @)."""
LABELS = {
    Act.ORDERS_PLACED: "Orders placed",
    Act.AMOUNT_SPENT: "Amount spent",
    Act.PURCHASED: "Purchased",
    Act.UNITS_PURCHASED: "Units purchased",
    Act.UNITS_SOLD: "Units sold (by buyer and time)",
    Act.REVENUE: "Revenue (by buyer and time)",
}
"""The Attribute select's words; a product's own ``Units Sold`` and ``Revenue`` are
attributes (all time, every buyer), so the functions say what sets them apart."""
DID, DID_NOT = "purchased", "not purchased"
OP_LABELS = {DID: "has purchased", DID_NOT: "has not purchased"}
COMPARISONS = [row.op.value for row in OPERATORS if row.op in BEHAVIOUR_OPS]
ANY_TIME, IN_LAST, BETWEEN = "any", "last", "between"
WINDOWS = [(ANY_TIME, "any time"), (IN_LAST, "in the last"), (BETWEEN, "between")]
CHANNEL = "channel"
"""The one order attribute a row's condition can compare: ``channel = 'app'``."""
IN = "segment:"
"""The prefix of a condition choice that names a segment: ``segment:premium``."""
ANY_OF = {"order": "any order", "product": "any product", "customer": "any buyer"}
IN_LABEL = {"product": "a product in segment", "customer": "a buyer in segment"}
WHICH = {"order": "Which orders", "product": "Which products", "customer": "Which buyers"}


class WindowError(ValueError):
    """A window or condition that cannot be read; ``missing`` while not typed yet."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass
class Window:
    """The window control of a row: its shape and what each shape asks for."""

    shape: str = ANY_TIME
    count: str = ""
    unit: str = "d"
    since: str = ""
    until: str = ""


def key(act: Act) -> str:
    return PREFIX + act.value


def act_of(attr: str) -> Act | None:
    """The function a row's attribute names, or ``None`` for an attribute."""
    if not attr.startswith(PREFIX):
        return None
    try:
        return Act(attr.removeprefix(PREFIX))
    except ValueError:
        return None


def choices(kind: str) -> list[tuple[str, str]]:
    """The functions a rule over ``kind`` may use, as the Attribute select lists them."""
    return [(key(a.act), LABELS[a.act]) for a in ACTIVITIES if a.segment_kind == kind]


def operators(act: Act) -> list[str]:
    return [DID, DID_NOT] if act is Act.PURCHASED else list(COMPARISONS)


def condition_kind(act: Act) -> str:
    return BY_ACT[act].condition_kind


def where_choices(act: Act, codes: list[str], where: str) -> list[tuple[str, str]]:
    """The condition select: "any …", then the channel (orders) or each segment."""
    over = condition_kind(act)
    out = [("", ANY_OF[over])]
    if over == "order":
        out.append((CHANNEL, "channel is"))
    else:
        out.extend((IN + code, f"{IN_LABEL[over]} {code}") for code in codes)
    if where and where not in {value for value, _ in out}:
        out.append((where, where.removeprefix(IN)))  # a segment since removed stays visible
    return out


# -- a row to its JSON form ----------------------------------------------------------------


def to_json(
    act: Act, op: str, value: int | float | None, *, window: Window, where: str, channel: str
) -> dict[str, Any]:
    """The JSON form of a behaviour row (``value`` is the number, read by the builder)."""
    since, until = _window_json(window)
    out: dict[str, Any] = {
        "fn": act.value,
        "where": _where_json(where, channel),
        "since": since,
        "until": until,
    }
    if act is Act.PURCHASED:
        return {"not": out} if op == DID_NOT else out
    if op not in COMPARISONS:
        raise WindowError("Choose a comparison.")
    if value is None:
        raise WindowError("Enter a number.", missing=True)
    return out | {"op": op, "value": value}


def _window_json(window: Window) -> tuple[str | None, str | None]:
    if window.shape == IN_LAST:
        try:
            since = dates.value([window.count, window.unit])
        except dates.RelativeValueError as problem:
            raise WindowError(str(problem)) from None
        if since is None:
            raise WindowError("Enter how many days, weeks, months or years.", missing=True)
        return since, None
    if window.shape == BETWEEN:
        since, until = window.since.strip() or None, window.until.strip() or None
        if since is None and until is None:
            raise WindowError("Enter a date, or both.", missing=True)
        return since, until
    return None, None


def _where_json(where: str, channel: str) -> dict[str, Any] | None:
    if where == CHANNEL:
        value = channel.strip()
        if not value:
            raise WindowError("Enter the channel.", missing=True)
        return {"attr": CHANNEL, "op": "=", "value": value}
    if where.startswith(IN) and where.removeprefix(IN):
        return {"segment": where.removeprefix(IN)}
    return None


# -- a JSON form to a row ------------------------------------------------------------------


@dataclass
class Shown:
    """What a behaviour row shows of a function (no ``number`` for ``purchased``)."""

    act: Act
    op: str
    number: str
    window: Window
    where: str
    channel: str

    @property
    def key(self) -> str:
        return key(self.act)

    @property
    def values(self) -> list[str]:
        return [self.number] if self.number else []

    @property
    def parts(self) -> dict[str, Any]:
        """The row's fields besides attribute, operator and values."""
        return {"window": self.window, "where": self.where, "channel": self.channel}


def shown(node: Mapping[str, Any]) -> Shown | None:
    """The row of ``{"fn": ...}`` or ``{"not": {"fn": "purchased", ...}}``, or ``None``
    when its condition or window is richer than a row shows."""
    inner = node.get("not")
    negated = isinstance(inner, Mapping)
    function = inner if isinstance(inner, Mapping) else node
    try:
        act = Act(str(function.get("fn")))
    except ValueError:
        return None
    if negated and act is not Act.PURCHASED:
        return None
    window = _window_of(function.get("since"), function.get("until"))
    where = _where_of(act, function.get("where"))
    if window is None or where is None:
        return None
    if act is Act.PURCHASED:
        return Shown(act, DID_NOT if negated else DID, "", window, *where)
    value = function.get("value")
    if function.get("op") not in COMPARISONS or isinstance(value, bool):
        return None
    if not isinstance(value, int | float):
        return None
    return Shown(act, function["op"], str(value), window, *where)


def _window_of(since: object, until: object) -> Window | None:
    if since is None and until is None:
        return Window()
    relative = dates.row_of(">", since)
    if relative is not None and until is None:
        count, unit = relative[1]
        return Window(IN_LAST, count, unit)
    days = [end for end in (since, until) if end is not None]
    if all(isinstance(end, str) and dates.DAY.fullmatch(end) for end in days):
        return Window(BETWEEN, since=str(since or ""), until=str(until or ""))
    return None


def _where_of(act: Act, where: object) -> tuple[str, str] | None:
    if where is None:
        return "", ""
    if not isinstance(where, Mapping):
        return None
    over = condition_kind(act)
    if over != "order" and set(where) == {"segment"} and isinstance(where["segment"], str):
        return IN + where["segment"], ""
    channel = where.get("value")
    simple = over == "order" and set(where) == {"attr", "op", "value"} and where["op"] == "="
    if simple and str(where["attr"]).lower() == CHANNEL and isinstance(channel, str):
        return (CHANNEL, channel) if channel == channel.strip() else None
    return None
