"""Orders: validation of an order and its lines, and exact money.

An order is the third kind of record (:attr:`Kind.ORDER`): it has built-in and
declared attributes like products and customers, but it is never segmented;
it feeds customers' and products' derived values. Its money is exact
(:mod:`segmentry.model.money`).

Every problem names the order, the line (numbered from 0) and the field,
e.g. ``order o-17: line 3: quantity must be an integer of at least 1, got 0``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Any

from segmentry.errors import ValidationError
from segmentry.model import temporal
from segmentry.model.money import (
    MAX_UNIT_PRICE,
    cents,
    money_number,
    places_ok,
    read_money,
)
from segmentry.model.schema import Schema
from segmentry.model.values import (
    CONTROL_OR_SURROGATE,
    MAX_ID_LENGTH,
    Document,
    Record,
    check_id,
    coerce,
    encode,
    validate,
)

MAX_LINES = 10_000
"""Lines in one order: more than the 5,000 the contract asks for, and bounded so that
one order's write stays one reasonable transaction."""
MAX_QUANTITY = 1_000_000
"""Largest quantity of a line: far above any real order, and small enough that a line's
amount in millionths fits a 64-bit integer (see :data:`~segmentry.model.money.MAX_UNIT_PRICE`)."""

BUILTIN_KEYS = frozenset({"id", "customer_id", "placed_at", "status", "channel", "total", "lines"})
LINE_KEYS = frozenset({"product_id", "quantity", "unit_price"})


class OrderStatus(StrEnum):
    PLACED = "placed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class OrderLine:
    product_id: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.unit_price

    def doc(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "quantity": self.quantity,
            "unit_price": money_number(self.unit_price),
        }


@dataclass(frozen=True, slots=True)
class Order:
    """A validated order. ``placed_at`` is the stored ISO spelling (UTC, ``Z``)."""

    id: str
    customer_id: str | None
    placed_at: str
    status: OrderStatus
    channel: str | None
    total: Decimal
    lines: tuple[OrderLine, ...]
    attributes: Document = field(default_factory=dict)

    @property
    def counts(self) -> bool:
        """Whether the order counts towards derived values (cancelled and refunded
        orders count for nothing)."""
        return self.status is OrderStatus.PLACED

    def doc(self) -> dict[str, Any]:
        """The order as the API shows it: built-ins at the top, custom ones under
        ``attributes``, numbers as sent."""
        out = self.head()
        out["lines"] = [line.doc() for line in self.lines]
        out["attributes"] = dict(self.attributes)
        return out

    def head(self) -> dict[str, Any]:
        """The built-in attributes of :meth:`doc`, without the lines (what the order's
        record is made of, with the custom ones)."""
        out: dict[str, Any] = {"id": self.id}
        if self.customer_id is not None:
            out["customer_id"] = self.customer_id
        out["placed_at"] = self.placed_at
        out["status"] = self.status.value
        if self.channel is not None:
            out["channel"] = self.channel
        out["total"] = money_number(self.total)
        return out


def validate_order(
    schema: Schema, order_id: object, values: Mapping[str, Any], *, tz: tzinfo = UTC
) -> Order:
    """Check an order (the body of ``PUT /v1/orders/{id}``) and return it.

    Built-in keys at the top level; declared order attributes under ``attributes``
    (or at the top level). Every problem is collected and each names the order,
    the line and the field."""
    plain = _plain_order(schema, order_id, values, tz)
    return plain if plain is not None else checked_order(schema, order_id, values, tz=tz)


def checked_order(
    schema: Schema, order_id: object, values: Mapping[str, Any], *, tz: tzinfo = UTC
) -> Order:
    """:func:`validate_order` without its shortcut for the usual shape: every check
    made one by one (the reference the shortcut must equal)."""
    oid = check_id(order_id, what="order id")
    where = f"order {oid}"
    problems: list[str] = []

    def attempt(fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            problems.extend(exc.problems)
            return None

    given = values.get("id")
    if given is not None and given != oid:
        problems.append(f"{where}: id {given!r} differs from the path id")
    customer_id = attempt(_customer, where, values.get("customer_id"))
    placed_at = attempt(_placed_at, schema, where, values.get("placed_at"), tz)
    status = attempt(_status, where, values.get("status"))
    channel = attempt(_channel, schema, where, values.get("channel"))
    lines = attempt(_lines, where, values.get("lines")) or ()
    total = attempt(_total, where, values.get("total"), lines)
    custom = attempt(_custom, schema, oid, values, tz) or {}
    if problems:
        raise ValidationError(problems[0], field=where, problems=problems)
    return Order(oid, customer_id, placed_at, status, channel, total, lines, custom)


def _plain_order(
    schema: Schema, order_id: object, values: Mapping[str, Any], tz: tzinfo
) -> Order | None:
    """The order of the usual shape (built-in keys only, lines of plain JSON values)
    when it is valid, exactly as the checks below would make it; ``None`` for any
    other shape or any problem (the checks below then say what is wrong)."""
    if not _plain_id(order_id) or not BUILTIN_KEYS.issuperset(values):
        return None
    assert isinstance(order_id, str)
    given = values.get("id")
    if given is not None and given != order_id:
        return None
    raw_lines = values.get("lines")
    if type(raw_lines) is not list or not 0 < len(raw_lines) <= MAX_LINES:
        return None
    lines = tuple(map(_plain_line, raw_lines))
    if None in lines:
        return None
    where = f"order {order_id}"
    try:
        customer_id = _customer(where, values.get("customer_id"))
        placed_at = _utc_seconds(values.get("placed_at"))
        if placed_at is None:
            placed_at = _placed_at(schema, where, values.get("placed_at"), tz)
        status = _status(where, values.get("status"))
        channel = _channel(schema, where, values.get("channel"))
        total = _total(where, values.get("total"), lines)  # type: ignore[arg-type]
    except ValidationError:
        return None
    return Order(order_id, customer_id, placed_at, status, channel, total, lines, {})  # type: ignore[arg-type]


_UTC_SECONDS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z")


def _utc_seconds(raw: Any) -> str | None:
    """``raw`` when it is already the stored spelling of a whole-second UTC instant
    (``_placed_at`` would give it back unchanged), else ``None``."""
    if type(raw) is not str or len(raw) != 20 or _UTC_SECONDS.fullmatch(raw) is None:
        return None
    try:
        year = datetime.fromisoformat(raw).year
    except ValueError:
        return None
    return raw if temporal.MIN_YEAR <= year <= temporal.MAX_YEAR else None


def _plain_id(raw: object) -> bool:
    """Whether ``check_id`` takes ``raw`` as it is."""
    return (
        type(raw) is str
        and 0 < len(raw) <= MAX_ID_LENGTH
        and raw == raw.strip()
        and CONTROL_OR_SURROGATE.search(raw) is None
    )


def _plain_line(raw: Any) -> OrderLine | None:
    """A line of the usual shape (a JSON object of a string id, an integer quantity and
    a JSON number price) as ``validate_line`` makes it when valid, else ``None``."""
    if type(raw) is not dict or not LINE_KEYS.issuperset(raw):
        return None
    product_id, quantity, price = raw.get("product_id"), raw.get("quantity"), raw.get("unit_price")
    if not _plain_id(product_id) or type(quantity) is not int or not 1 <= quantity <= MAX_QUANTITY:
        return None
    unit_price = _PRICES.get(price) if type(price) is float else None
    if unit_price is None:
        unit_price = _plain_price(price)
        if unit_price is None:
            return None
    return OrderLine(product_id, quantity, unit_price)  # type: ignore[arg-type]


_PRICES: dict[float, Decimal] = {}
"""Valid positive float prices already read (catalogues repeat them), bounded."""


def _plain_price(price: Any) -> Decimal | None:
    """A JSON number unit price as ``read_money`` reads it when valid, else ``None``."""
    if type(price) is int:
        value = Decimal(price)
    elif type(price) is float and math.isfinite(price):
        value = Decimal(repr(price))
    else:
        return None
    if not 0 <= value <= MAX_UNIT_PRICE or not places_ok(value):
        return None
    if type(price) is float and price > 0:  # not -0.0, whose Decimal keeps its sign
        if len(_PRICES) >= 10_000:
            _PRICES.clear()
        _PRICES[price] = value
    return value


def _customer(where: str, raw: Any) -> str | None:
    if raw is None or raw == "":
        return None  # a guest checkout
    try:
        return check_id(raw, what="customer_id")
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc.message}", field="customer_id") from None


def _placed_at(schema: Schema, where: str, raw: Any, tz: tzinfo) -> str:
    if raw is None or raw == "":
        raise ValidationError(f"{where}: placed_at is required", field="placed_at")
    value = coerce(schema.by_key["placed_at"], raw, tz=tz, where=where)
    assert isinstance(value, str)
    return value


def _status(where: str, raw: Any) -> OrderStatus:
    if raw is None:
        return OrderStatus.PLACED
    folded = raw.strip().lower() if isinstance(raw, str) else raw
    try:
        return OrderStatus(folded)
    except ValueError:
        raise ValidationError(
            f"{where}: status must be one of placed, cancelled, refunded, got {raw!r}",
            field="status",
        ) from None


def _channel(schema: Schema, where: str, raw: Any) -> str | None:
    if raw is None:
        return None
    value = coerce(schema.by_key["channel"], raw, where=where)
    return value if isinstance(value, str) else None


def _lines(where: str, raw: Any) -> tuple[OrderLine, ...]:
    if not isinstance(raw, list | tuple) or not raw:
        raise ValidationError(f"{where}: lines must be a list of one or more lines", field="lines")
    if len(raw) > MAX_LINES:
        raise ValidationError(
            f"{where}: lines holds {len(raw):,} lines; an order holds at most {MAX_LINES:,}",
            field="lines",
        )
    problems: list[str] = []
    out: list[OrderLine] = []
    for number, item in enumerate(raw):
        try:
            out.append(validate_line(f"{where}: line {number}", item))
        except ValidationError as exc:
            problems.extend(exc.problems)
            if len(problems) >= 20:
                break
    if problems:
        raise ValidationError(problems[0], field="lines", problems=problems)
    return tuple(out)


def validate_line(where: str, raw: Any) -> OrderLine:
    """One line of an order; ``where`` names the order and the line in messages."""
    if not isinstance(raw, Mapping):
        raise ValidationError(f"{where}: a line must be an object", field="lines")
    unknown = [k for k in raw if k not in LINE_KEYS]
    if unknown:
        raise ValidationError(
            f"{where}: unknown field {unknown[0]!r}; a line has product_id, quantity "
            "and unit_price",
            field=str(unknown[0]),
        )
    product = raw.get("product_id")
    if product is None or product == "":
        raise ValidationError(f"{where}: product_id is required", field="product_id")
    try:
        product_id = check_id(product, what="product_id")
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc.message}", field="product_id") from None
    quantity = _quantity(where, raw.get("quantity"))
    unit_price = read_money(where, "unit_price", raw.get("unit_price"), limit=MAX_UNIT_PRICE)
    if unit_price is None:
        raise ValidationError(f"{where}: unit_price is required", field="unit_price")
    return OrderLine(product_id, quantity, unit_price)


def _quantity(where: str, raw: Any) -> int:
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str) and raw.strip().lstrip("+-").isdigit():
        value = int(raw.strip())
    if value is None or not 1 <= value <= MAX_QUANTITY:
        raise ValidationError(
            f"{where}: quantity must be an integer from 1 to {MAX_QUANTITY:,}, got {raw!r}",
            field="quantity",
        )
    return value


def _total(where: str, raw: Any, lines: tuple[OrderLine, ...]) -> Decimal:
    given = read_money(where, "total", raw)
    if given is not None:
        return given
    return cents(sum((line.amount for line in lines), Decimal(0)))


def _custom(schema: Schema, oid: str, values: Mapping[str, Any], tz: tzinfo) -> Document:
    """The declared attributes: under ``attributes``, or at the top level."""
    nested = values.get("attributes") or {}
    if not isinstance(nested, Mapping):
        raise ValidationError(f"order {oid}: attributes must be an object", field="attributes")
    top = {k: v for k, v in values.items() if k not in BUILTIN_KEYS and k != "attributes"}
    builtin = [k for k in nested if k in BUILTIN_KEYS]
    if builtin:
        raise ValidationError(
            f"order {oid}: {builtin[0]} is a built-in order attribute; give it at the top level",
            field=str(builtin[0]),
        )
    doc = validate(schema, oid, {**top, **nested}, tz=tz)
    doc.pop("id", None)
    return doc


def order_record(schema: Schema, order: Order) -> Record:
    """The evaluation record of an order (what the conditions of ``orders_placed`` and
    ``amount_spent`` read): its built-in and custom attributes, not its lines, encoded
    as an entity's are (:func:`~segmentry.model.values.encode`)."""
    return encode(schema, {**order.attributes, **order.head()})


def placed_micros(order: Order) -> int:
    """``placed_at`` as microseconds since the epoch (the stored time unit)."""
    moment = datetime.fromisoformat(order.placed_at)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


__all__ = [
    "MAX_LINES",
    "Order",
    "OrderLine",
    "OrderStatus",
    "order_record",
    "placed_micros",
    "validate_line",
    "validate_order",
]
