"""Imports of orders: JSON Lines (one order a line, in the shape of ``PUT
/v1/orders/{id}``) or CSV (one row per order line; the rows of one order id,
which must be adjacent, make one order).

In a CSV the order's own columns (``id``, ``customer_id``, ``placed_at``,
``status``, ``channel``, ``total`` and declared order attributes) are read
from its first row; each row gives one line (``product_id``, ``quantity``,
``unit_price``). Every row is reported on its own: a row whose line does not
validate (a quantity below 1, as returns and cancellations in shop exports
have, a negative price, no product) is refused with its line number and the
order's other rows are imported without it; a problem with the order itself
refuses all its rows. A batch never ends inside an order.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import orjson

from segmentry.engine import orders as order_ops
from segmentry.engine.import_readers import (
    FileError,
    ImportFormat,
    Line,
    _decoded,
    _next_row,
    _renamed,
    cell_value,
    header_fields,
    json_lines,
)
from segmentry.engine.transaction import Transaction
from segmentry.errors import ValidationError
from segmentry.model.orders import validate_line, validate_order
from segmentry.model.schema import Attribute, AttrType, Schema

LINE_FIELDS = (
    Attribute("product_id", "Product ID", AttrType.STRING),
    Attribute("quantity", "Quantity", AttrType.INTEGER),
    Attribute("unit_price", "Unit Price", AttrType.NUMBER),
)
LINE_KEYS = tuple(a.key for a in LINE_FIELDS)
REQUIRED = ("id", "placed_at", "product_id", "quantity", "unit_price")


@dataclass(slots=True)
class OrderRecords:
    """The :class:`~segmentry.engine.imports.Records` of an order import."""

    schema: Schema
    format: ImportFormat
    columns: dict[str, str | None] = field(default_factory=dict)
    date_format: str | None = None
    """A ``strptime`` format for the ``placed_at`` cells of a CSV (``%m/%d/%Y %H:%M`` for
    ``12/1/2010 8:26``); None: ISO 8601, as everywhere else."""
    seen: dict[str, int] = field(default_factory=dict)
    """Order id -> the line of its first row, to refuse rows of an order that come
    back after other orders (they would replace the order written before)."""

    def read(self, source: IO[bytes]) -> Iterator[Line]:
        if self.format is ImportFormat.NDJSON:
            return self._json(source)
        return self._csv(source)

    def _json(self, source: IO[bytes]) -> Iterator[Line]:
        """One order a line, as sent (its lines are not attributes, so the entity
        reader's flattening does not apply); only top-level keys are renamed."""
        return json_lines(source, lambda number, raw: _json_order(number, raw, self.columns))

    def may_cut(self, previous: Line, line: Line) -> bool:
        if self.format is ImportFormat.NDJSON:
            return True
        return bool(_order_id(previous) != _order_id(line))

    def _csv(self, source: IO[bytes]) -> Iterator[Line]:
        reader = csv.reader(_decoded(source), strict=True)
        header = _next_row(reader, 1)
        if header is None:
            return
        row_schema = Schema(self.schema.kind, (*self.schema.custom, *LINE_FIELDS))
        fields = header_fields(header, row_schema, self.columns)
        keys = {f.key for f in fields if f is not None}
        missing = [k for k in REQUIRED if k not in keys]
        if missing:
            raise FileError(1, f"the header has no {', '.join(missing)} column (map one)")
        while True:
            start = reader.line_num + 1
            row = _next_row(reader, start)
            if row is None:
                return
            if any(cell.strip() for cell in row):
                yield _csv_row(start, row, fields, self.date_format)

    def write(self, tx: Transaction, batch: list[Line]) -> dict[int, str]:
        if self.format is ImportFormat.NDJSON:
            return self._write_json(tx, batch)
        refused: dict[int, str] = {}
        writes: list[order_ops.OrderWrite] = []
        for group in _groups(batch):
            first = group[0]
            order_id = _order_id(first)
            earlier = self.seen.get(order_id) if order_id is not None else None
            if earlier is not None:
                message = (
                    f"order {order_id}: its rows must be adjacent; the order began at "
                    f"line {earlier} and other orders came between"
                )
                refused.update((ln.number, message) for ln in group)
                continue
            if order_id is not None:
                self.seen[order_id] = first.number
            found = self._order(tx, group, refused)
            if found is not None:
                writes.append(found)
        if writes:
            order_ops.write(tx, writes)
        return refused

    def _order(
        self, tx: Transaction, group: list[Line], refused: dict[int, str]
    ) -> order_ops.OrderWrite | None:
        """The order of a group of rows, without the rows whose line is refused."""
        first = group[0]
        if first.values is None:
            return None
        order_id = first.values.get("id")
        where = f"order {order_id}"
        lines: list[dict[str, Any]] = []
        kept: list[Line] = []
        for position, row in enumerate(group):
            if row.values is None:
                continue
            raw = {k: row.values[k] for k in LINE_KEYS if k in row.values}
            try:
                validate_line(f"{where}: line {position}", raw)
            except ValidationError as exc:
                refused[row.number] = exc.message + _hint(raw)
                continue
            lines.append(raw)
            kept.append(row)
        if not lines:
            return None
        values = {k: v for k, v in first.values.items() if k not in LINE_KEYS}
        values["lines"] = lines
        try:
            validate_order(tx.state.schemas[self.schema.kind], order_id, values, tz=tx.state.tz)
        except ValidationError as exc:
            refused.update((row.number, exc.message) for row in kept)
            return None
        return order_ops.OrderWrite(str(order_id), values)

    def _write_json(self, tx: Transaction, batch: list[Line]) -> dict[int, str]:
        refused: dict[int, str] = {}
        writes: list[order_ops.OrderWrite] = []
        numbers: dict[str, int] = {}
        for line in batch:
            if line.values is None:
                continue
            order_id = line.values.get("id")
            try:
                validate_order(
                    tx.state.schemas[self.schema.kind], order_id, line.values, tz=tx.state.tz
                )
            except ValidationError as exc:
                refused[line.number] = exc.message
                continue
            numbers[str(order_id)] = line.number
            writes.append(order_ops.OrderWrite(str(order_id), line.values))
        if writes:
            order_ops.write(tx, writes)
        return refused


def _json_order(number: int, raw: bytes, columns: dict[str, str | None]) -> Line:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Line(number, error=f"not valid JSON ({exc})")
    if not isinstance(body, dict):
        return Line(number, error="an order must be a JSON object")
    return Line(number, values=_renamed(body, columns))


def _hint(raw: dict[str, Any]) -> str:
    quantity = raw.get("quantity")
    if isinstance(quantity, int) and quantity < 1:
        return " (a return or cancellation: not imported as an order line)"
    return ""


def _order_id(line: Line) -> Any:
    return None if line.values is None else line.values.get("id")


def _groups(batch: list[Line]) -> Iterator[list[Line]]:
    """Adjacent rows of one order id (an unreadable row stands alone)."""
    group: list[Line] = []
    for line in batch:
        if group and (line.values is None or _order_id(group[-1]) != _order_id(line)):
            yield group
            group = []
        group.append(line)
    if group:
        yield group


def _csv_row(
    number: int, row: list[str], fields: list[Attribute | None], date_format: str | None
) -> Line:
    if len(row) != len(fields):
        return Line(number, error=f"{len(row)} fields, but the header has {len(fields)}")
    values: dict[str, Any] = {}
    for attribute, cell in zip(fields, row, strict=True):
        text = cell.strip()
        if attribute is None or not text:
            continue
        if attribute.key == "placed_at" and date_format is not None:
            try:
                values["placed_at"] = datetime.strptime(text, date_format)  # the tenant's zone
            except ValueError:
                return Line(
                    number,
                    error=f"placed_at {text!r} does not match the date format {date_format!r}",
                )
            continue
        values[attribute.key] = _cell(attribute, text)
    return Line(number, values=values)


def check_date_format(date_format: str | None) -> str | None:
    """A ``strptime`` format with at least a directive, or a ValidationError."""
    if date_format is None:
        return None
    if "%" not in date_format or len(date_format) > 100:
        raise ValidationError(
            f"date format {date_format!r} must be a strptime format such as '%m/%d/%Y %H:%M'",
            field="date_format",
        )
    return date_format


def _cell(attribute: Attribute, text: str) -> Any:
    """Money stays text (read exactly as a decimal); other cells as other imports read them."""
    if attribute.key in ("unit_price", "total"):
        return text
    return cell_value(attribute, text)
