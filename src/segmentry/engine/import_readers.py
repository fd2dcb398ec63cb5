"""Reading an import file line by line: CSV (a header row, one entity per row)
or JSON Lines (one entity per line, in the API's shape). Each reader streams:
it holds one line at a time, however big the file.

A problem with one line is that line's error; a problem with the file itself
(an unknown column, a broken CSV quote, bytes that are not UTF-8) stops the
import at that line.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, Any

import orjson

from segmentry.engine.csv_cells import restored
from segmentry.errors import ValidationError
from segmentry.model.nesting import flatten
from segmentry.model.schema import Attribute, AttrType, Schema
from segmentry.model.suggest import suggest

MAX_LINE_BYTES = 1_048_576
LIST_SEPARATOR = "|"
BOM = "\ufeff"
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class ImportFormat(StrEnum):
    CSV = "csv"
    NDJSON = "ndjson"


@dataclass(frozen=True, slots=True)
class Line:
    """One entity read from the file: its values, or why it could not be read."""

    number: int
    values: dict[str, Any] | None = None
    error: str | None = None


class FileError(ValidationError):
    """The file cannot be read on from ``line``: the import stops there."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}", field="file")
        self.line = line


class ByteCounter(io.RawIOBase):
    """A binary stream that counts what was read from it (for progress bars)."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        # read1 answers what has arrived (a pipe, a socket) instead of waiting for a
        # whole buffer, so lines are applied as they come.
        self.read_some = getattr(source, "read1", source.read)
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.read_some(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


def read_lines(
    source: IO[bytes], fmt: ImportFormat, schema: Schema, columns: Mapping[str, str | None]
) -> Iterator[Line]:
    """The entities of ``source`` in file order."""
    if fmt is ImportFormat.CSV:
        return csv_lines(source, schema, columns)
    return ndjson_lines(source, schema, columns)


# -- JSON Lines ----------------------------------------------------------------------------


def ndjson_lines(
    source: IO[bytes], schema: Schema, columns: Mapping[str, str | None]
) -> Iterator[Line]:
    return json_lines(source, lambda number, raw: _json_line(number, raw, schema, columns))


def json_lines(source: IO[bytes], read: Callable[[int, bytes], Line]) -> Iterator[Line]:
    """Each non-blank line of ``source`` as ``read(number, raw)`` makes it (a leading BOM
    dropped); a line over ``MAX_LINE_BYTES`` is skipped and reported, never held whole."""
    number = 0
    while raw := source.readline(MAX_LINE_BYTES + 1):
        number += 1
        raw = raw.removeprefix(BOM.encode()) if number == 1 else raw
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            _skip_rest(source)
            yield Line(number, error=f"longer than {MAX_LINE_BYTES:,} bytes")
        elif raw.strip():
            yield read(number, raw)


def _skip_rest(source: IO[bytes]) -> None:
    while (part := source.readline(MAX_LINE_BYTES)) and not part.endswith(b"\n"):
        pass


def _json_line(number: int, raw: bytes, schema: Schema, columns: Mapping[str, str | None]) -> Line:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Line(number, error=f"not valid JSON ({exc})")
    if not isinstance(body, dict):
        return Line(number, error="an entity must be a JSON object")
    renamed = _renamed(body, columns)
    try:
        return Line(number, values=flatten(schema, renamed))
    except ValidationError as exc:
        return Line(number, error=exc.message)


def _renamed(body: dict[str, Any], columns: Mapping[str, str | None]) -> dict[str, Any]:
    if not columns:
        return body
    out: dict[str, Any] = {}
    for key, value in body.items():
        target = columns.get(key, key)
        if target is not None:
            out[target] = value
    return out


# -- CSV -------------------------------------------------------------------------------------


def csv_lines(
    source: IO[bytes], schema: Schema, columns: Mapping[str, str | None]
) -> Iterator[Line]:
    reader = csv.reader(_decoded(source), strict=True)
    header = _next_row(reader, 1)
    if header is None:
        return
    fields = header_fields(header, schema, columns)
    while True:
        start = reader.line_num + 1
        row = _next_row(reader, start)
        if row is None:
            return
        if any(cell.strip() for cell in row):
            yield _csv_line(start, row, fields)


def _next_row(reader: Any, line: int) -> list[str] | None:
    try:
        row: list[str] = next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        raise FileError(line, f"not valid CSV ({exc})") from None
    return row


def _decoded(source: IO[bytes]) -> Iterator[str]:
    """The file's lines as text, decoded one by one so an error names its line."""
    number = 0
    while raw := source.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            raise FileError(number, f"longer than {MAX_LINE_BYTES:,} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileError(number, f"not UTF-8 text ({exc.reason})") from None
        yield text.removeprefix(BOM) if number == 1 else text


def header_fields(
    header: list[str], schema: Schema, columns: Mapping[str, str | None]
) -> list[Attribute | None]:
    """The attribute of each column (``None``: ignored), or a FileError naming the column."""
    fields: list[Attribute | None] = []
    for name in (cell.strip() for cell in header):
        target = columns.get(name, name)
        fields.append(None if target is None else _column(schema, name, target))
    keys = [f.key for f in fields if f is not None]
    if "id" not in keys:
        raise FileError(1, "the header has no id column (map one with a column mapping)")
    repeated = sorted(k for k, n in Counter(keys).items() if n > 1)
    if repeated:
        raise FileError(1, f"more than one column gives {', '.join(repeated)}")
    return fields


def _column(schema: Schema, name: str, target: str) -> Attribute:
    attribute = schema.get(target)
    if attribute is None:
        close = suggest(target.lower(), [a.key for a in schema])
        hint = f"; {close}" if close else ""
        # a mapped column is named with its target: that is where the typo is
        column = repr(name) if name == target else f"{name!r} (mapped to {target!r})"
        raise FileError(1, f"column {column} is not a {schema.kind} attribute{hint}")
    if attribute.derived:
        raise FileError(1, f"column {name!r}: {attribute.key} is computed and cannot be written")
    return attribute


def _csv_line(number: int, row: list[str], fields: list[Attribute | None]) -> Line:
    if len(row) != len(fields):
        return Line(number, error=f"{len(row)} fields, but the header has {len(fields)}")
    values: dict[str, Any] = {}
    for attribute, cell in zip(fields, row, strict=True):
        text = restored(cell.strip())  # a cell segmentry's export escaped reads back as it was
        if attribute is not None and text:
            values[attribute.key] = cell_value(attribute, text)
    return Line(number, values=values)


def cell_value(attribute: Attribute, text: str) -> Any:
    """A CSV cell as the value its attribute takes; a cell that does not parse is
    handed on as text, so validation words the error like any other write."""
    kind = attribute.type
    if kind.is_numeric and _NUMBER.fullmatch(text):
        return int(text) if _INTEGER.fullmatch(text) else float(text)
    if kind is AttrType.BOOLEAN:
        return _BOOLEANS.get(text.lower(), text)
    if kind is AttrType.STRING_LIST:
        return [item for item in text.split(LIST_SEPARATOR) if item.strip()]
    return text
