"""Validating and encoding a batch of entities an attribute at a time.

:func:`~segmentry.rules.values.validate` and
:func:`~segmentry.rules.values.encode` take one value at a time. A batch of
thousands of customers repeats most of its values (countries, tiers, tag sets)
and spells most instants and days the same canonical way, so here each
attribute is checked over the whole batch: every distinct string, flag or list
once, with the very coercer ``validate`` uses; numbers by their types for the
whole column; instants (``2025-03-01T10:00:00Z``) and days (``2025-03-01``) in
their canonical spelling parsed for the whole column by Polars, which also
yields their encoded form.

Any item with something unusual (a value that does not fit, an unknown or
computed attribute, a ``null``, an instant spelled another way) is left to
``validate`` itself, so the documents stored, and every error message, are
exactly those of one-at-a-time validation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, tzinfo
from typing import Any

import polars as pl

from segmentry.errors import ValidationError
from segmentry.rules import temporal
from segmentry.rules.limits import MAX_SAFE_INTEGER
from segmentry.rules.schema import Attribute, AttrType, Schema
from segmentry.rules.values import (
    COERCERS,
    ENCODERS,
    Document,
    InvalidValueError,
    Record,
    check_id,
    validate,
)

Outcome = Document | ValidationError
NUMBERS = (AttrType.NUMBER, AttrType.INTEGER)
SAME = (AttrType.NUMBER, AttrType.INTEGER, AttrType.BOOLEAN)  # encoded as they are
CANONICAL = {
    AttrType.DATETIME: (
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$",
        "%Y-%m-%dT%H:%M:%SZ",
        pl.Datetime("us"),
    ),
    AttrType.DATE: (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "%Y-%m-%d", pl.Date()),
}
"""The spelling of instants and days whose stored form is the spelling itself."""


def validate_many(
    schema: Schema, items: Sequence[tuple[str, Mapping[str, Any]]], *, tz: tzinfo = UTC
) -> tuple[list[Outcome], Encoder]:
    """``validate`` of every ``(id, values)`` item: its document, or the error it
    raises; and an :class:`Encoder` that already knows the batch's encoded instants."""
    encoder = Encoder(schema)
    columns, unusual = _columns(schema, items)
    maps: dict[str, Callable[[Any], Any]] = {}
    for key, (numbers, raws) in columns.items():
        maps[key], bad = _column(schema.writable[key], raws, tz, encoder)
        unusual.update(numbers[at] for at in bad)
    outcomes = [_outcome(schema, item, n in unusual, maps, tz) for n, item in enumerate(items)]
    return outcomes, encoder


def _columns(
    schema: Schema, items: Sequence[tuple[str, Mapping[str, Any]]]
) -> tuple[dict[str, tuple[list[int], list[Any]]], set[int]]:
    """Each writable attribute's values, with their item numbers; and the items that
    have anything else (``validate`` says what is wrong, or what it does with it)."""
    writable = schema.writable
    columns: dict[str, tuple[list[int], list[Any]]] = {}
    unusual: set[int] = set()
    for n, (entity_id, values) in enumerate(items):
        if not _plain_id(entity_id):
            unusual.add(n)
        for key, raw in values.items():
            if raw is not None and key in writable:
                column = columns.get(key)
                if column is None:
                    column = columns[key] = ([], [])
                column[0].append(n)
                column[1].append(raw)
            elif key != "id" or (raw is not None and raw != entity_id):
                unusual.add(n)  # unknown, computed, null, another id: validate decides
    return columns, unusual


def _plain_id(entity_id: str) -> bool:
    try:
        check_id(entity_id)
    except ValidationError:
        return False
    return True


def _outcome(
    schema: Schema,
    item: tuple[str, Mapping[str, Any]],
    unusual: bool,
    maps: dict[str, Callable[[Any], Any]],
    tz: tzinfo,
) -> Outcome:
    entity_id, values = item
    if unusual:
        try:
            return validate(schema, entity_id, values, tz=tz)
        except ValidationError as exc:
            return exc
    doc: Document = {"id": entity_id}
    for key, raw in values.items():
        if raw is not None and key in maps:
            value = maps[key](raw)
            if value is not None:
                doc[key] = value
    return doc


# -- one attribute over the batch -------------------------------------------------------


def _column(
    attribute: Attribute, raws: list[Any], tz: tzinfo, encoder: Encoder
) -> tuple[Callable[[Any], Any], list[int]]:
    """How each raw value of the column is stored, and the positions of the values
    that do not fit (or that this path does not take)."""
    if attribute.type in NUMBERS:
        whole = attribute.type is AttrType.INTEGER
        bad = [at for at, raw in enumerate(raws) if not _number_fits(raw, whole)]
        return (_as_int if whole else _same), bad
    if attribute.type in CANONICAL:
        return _instants(attribute, raws, tz, encoder)
    return _distinct(attribute, raws, tz)


def _number_fits(raw: Any, whole: bool) -> bool:
    """What ``validate`` stores as it is (an int within the limits, a finite float;
    for an integer attribute a whole one); anything else is left to ``validate``."""
    kind = type(raw)
    if kind is int:
        return bool(-MAX_SAFE_INTEGER <= raw <= MAX_SAFE_INTEGER)
    if kind is not float or not math.isfinite(raw):
        return False
    return not whole or (raw.is_integer() and abs(raw) <= MAX_SAFE_INTEGER)


def _same(raw: Any) -> Any:
    return raw


def _as_int(raw: Any) -> Any:
    return int(raw) if type(raw) is float else raw


def _instants(
    attribute: Attribute, raws: list[Any], tz: tzinfo, encoder: Encoder
) -> tuple[Callable[[Any], Any], list[int]]:
    """Canonical spellings are their own stored form: parsed (and encoded) a column at
    a time; the rest are coerced one distinct value at a time."""
    canonical = _canonical(attribute, raws, encoder)
    rest = [at for at, raw in enumerate(raws) if not (type(raw) is str and raw in canonical)]
    coerce, bad = _distinct(attribute, [raws[at] for at in rest], tz)

    def stored(raw: Any) -> Any:
        return raw if type(raw) is str and raw in canonical else coerce(raw)

    return stored, [rest[at] for at in bad]


def _canonical(attribute: Attribute, raws: list[Any], encoder: Encoder) -> set[str]:
    """The raw values spelled canonically (their own stored form); their encoded forms
    go to ``encoder``."""
    pattern, layout, dtype = CANONICAL[attribute.type]
    # Canonical spellings are ASCII; others (lone surrogates too) cannot be, nor enter Polars.
    texts = [raw if type(raw) is str and raw.isascii() else "" for raw in raws]
    series = pl.Series(texts, dtype=pl.String)
    parsed = series.str.strptime(dtype, layout, strict=False)
    plain = (
        series.str.contains(pattern)
        & parsed.dt.year().is_between(temporal.MIN_YEAR, temporal.MAX_YEAR)
    ).fill_null(False)
    texts = series.filter(plain).to_list()
    for text, number in zip(texts, parsed.filter(plain).cast(pl.Int64).to_list(), strict=True):
        encoder.seed(attribute.key, text, number)
    return set(texts)


def _distinct(
    attribute: Attribute, raws: list[Any], tz: tzinfo
) -> tuple[Callable[[Any], Any], list[int]]:
    """Every distinct value coerced once, with ``validate``'s own coercer. Values are
    told apart by type too: ``1``, ``1.0`` and ``True`` are equal in Python but not
    the same value here."""
    coercer = COERCERS[attribute.type]
    stored: dict[Any, Any] = {}
    failed: set[Any] = set()
    bad = []
    for at, raw in enumerate(raws):
        key = _key(raw)
        if key is None or key in failed:
            bad.append(at)
        elif key not in stored:
            try:
                stored[key] = coercer(attribute, raw, tz)
            except InvalidValueError:
                failed.add(key)
                bad.append(at)
    return (lambda raw: _copy(stored[_key(raw)])), bad


def _key(raw: Any) -> Any:
    """What tells a raw value apart for memoising its coercion; ``None`` when it cannot
    be memoised (left to ``validate``)."""
    kind = type(raw)
    if kind is str or kind is bool:
        return (kind, raw)
    if (kind is list or kind is tuple) and all(type(item) is str for item in raw):
        return (list, tuple(raw))
    return None


def _copy(value: Any) -> Any:
    """Documents do not share their lists."""
    return list(value) if type(value) is list else value


# -- encoding ------------------------------------------------------------------------


class Encoder:
    """``encode`` for the documents of one batch, each distinct value encoded once."""

    def __init__(self, schema: Schema) -> None:
        self.by_key = schema.by_key
        self.memo: dict[str, dict[Any, Any]] = {}

    def seed(self, key: str, value: Any, encoded: Any) -> None:
        """The encoded form of a stored value, known already."""
        self.memo.setdefault(key, {})[value] = encoded

    def record(self, doc: Mapping[str, Any]) -> Record:
        """The evaluation record of a stored document: equal to ``encode``'s."""
        record: Record = {}
        for key, value in doc.items():
            attribute = self.by_key.get(key)
            if attribute is None or value is None:
                continue
            if attribute.type in SAME:
                record[key] = value
                continue
            memo = self.memo.setdefault(key, {})
            found = tuple(value) if attribute.type is AttrType.STRING_LIST else value
            encoded = memo.get(found)
            if encoded is None:
                encoded = memo[found] = ENCODERS[attribute.type](value)
            record[key] = encoded
        return record
