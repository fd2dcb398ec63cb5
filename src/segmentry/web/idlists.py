"""Lists of ids in and out: typed into a box, uploaded as CSV, exported as CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from typing import Any

from segmentry.engine.csv_cells import neutralised, restored
from segmentry.engine.import_readers import LIST_SEPARATOR

MAX_IDS = 100_000
"""The most ids one edit of a fixed segment takes (the library's limit)."""
HEADERS = frozenset({"id", "ids", "product_id", "customer_id", "entity_id"})
SEPARATORS = re.compile(r"[\s,;]+")


class BadListError(ValueError):
    """A list of ids that cannot be read: not UTF-8, not CSV, or too long."""


def typed(text: str) -> list[str]:
    """Ids typed into a box: separated by new lines, commas, semicolons or spaces."""
    return _capped(part for part in SEPARATORS.split(text) if part)


def uploaded(data: bytes) -> list[str]:
    """The first column of a CSV file, without a header row such as ``id``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadListError(
            "The file is not UTF-8 text; save it as CSV (UTF-8) and upload again."
        ) from None
    try:
        rows = csv.reader(io.StringIO(text))
        cells = [restored(row[0].strip()) for row in rows if row and row[0].strip()]
    except csv.Error as problem:
        raise BadListError(f"The file is not valid CSV: {problem}.") from None
    if cells and cells[0].casefold() in HEADERS:
        cells = cells[1:]
    return _capped(cells)


def _capped(ids: Iterable[str]) -> list[str]:
    unique = list(dict.fromkeys(ids))
    if len(unique) > MAX_IDS:
        raise BadListError(f"At most {MAX_IDS:,} ids at a time; this list has {len(unique):,}.")
    return unique


def csv_lines(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """CSV text, a line at a time (for a streamed download)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in _prepend(header, rows):
        writer.writerow([_cell(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _cell(value: Any) -> str:
    """A value as other systems (and segmentry's own import) read it back: ``true``,
    ``a|b``, ``19.99``; text that a spreadsheet would run as a formula is escaped
    (``engine.csv_cells``). Numbers are not: ``-5`` is a number there too."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return neutralised(LIST_SEPARATOR.join(str(v) for v in value))  # as an import reads it
    return neutralised(str(value))


def _prepend(header: list[str], rows: Iterable[list[Any]]) -> Iterator[list[Any]]:
    yield header
    yield from rows
