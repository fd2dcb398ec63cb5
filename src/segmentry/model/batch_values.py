"""Validating and encoding a batch of entities an attribute at a time.

:func:`~segmentry.model.values.validate` and
:func:`~segmentry.model.values.encode` take one value at a time. A batch of
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from itertools import compress, repeat
from typing import Any

import polars as pl

from segmentry.errors import ValidationError
from segmentry.model import temporal
from segmentry.model.batch_encoder import Encoder
from segmentry.model.batch_lists import string_lists
from segmentry.model.limits import MAX_SAFE_INTEGER
from segmentry.model.schema import Attribute, AttrType, Schema
from segmentry.model.values import (
    COERCERS,
    MAX_VALUE_LENGTH,
    Document,
    InvalidValueError,
    check_id,
    validate,
)

Outcome = Document | ValidationError
NUMBERS = (AttrType.NUMBER, AttrType.INTEGER)
FOLDED = (AttrType.STRING, AttrType.ENUM)
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
    schema: Schema,
    items: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    tz: tzinfo = UTC,
    ids_checked: bool = False,
) -> tuple[list[Outcome], Encoder]:
    """``validate`` of every ``(id, values)`` item: its document, or the error it
    raises; and an :class:`Encoder` that already knows the batch's encoded values.
    ``ids_checked``: every id has passed ``check_id`` already (a write checks them first)."""
    encoder = Encoder(schema)
    if len(items) < FEW:
        return [_validated(schema, item, tz) for item in items], encoder
    values = [v for _, v in items]
    present: set[Any] = set().union(*values)
    unusual = _unusual(schema, items, present, ids_checked=ids_checked)
    fixes: list[tuple[str, list[tuple[int, Any]]]] = []
    dicts = all(type(v) is dict for v in values)
    for key in present & schema.writable.keys():
        raws = _raws(values, key, dicts=dicts)
        column = _column(schema.writable[key], raws, tz, encoder)
        unusual.update(column.bad)
        if column.fixes:
            fixes.append((key, column.fixes))
    # Each item's values as they came (in their order, as ``validate`` keeps it), then
    # the values whose stored form differs replaced or dropped, an attribute at a time.
    docs: list[Document] = [{"id": entity_id, **v} for entity_id, v in items]
    for key, found in fixes:
        for at, stored in found:
            if stored is DROP:
                del docs[at][key]
            else:
                docs[at][key] = stored
    outcomes: list[Outcome] = list(docs)
    for n in unusual:  # their documents are validate's (or its error)
        outcomes[n] = _validated(schema, items[n], tz)
    return outcomes, encoder


FEW = 32
"""Fewer items than this are each validated alone: a column at a time pays a fixed cost
per attribute (a Polars parse of every instant column), more than validating a
handful of documents one by one costs."""
MISSING: Any = object()
"""An attribute the item does not have."""
DROP: Any = object()
"""A value that is not stored (``null``, an empty string or list)."""


def _raws(values: list[Mapping[str, Any]], key: str, *, dicts: bool) -> list[Any]:
    """The items' values of ``key``, :data:`MISSING` where an item has none. Plain
    dicts (``dicts``: as JSON gives them) are read by ``dict.get`` mapped over them,
    with no Python step per item: this runs for every attribute of every item."""
    if dicts:
        return list(map(dict.get, values, repeat(key), repeat(MISSING)))  # type: ignore[arg-type]
    return [v.get(key, MISSING) for v in values]


def _unusual(
    schema: Schema,
    items: Sequence[tuple[str, Mapping[str, Any]]],
    present: set[Any],
    *,
    ids_checked: bool,
) -> set[int]:
    """The items ``validate`` must see: a bad id, an attribute that is unknown or
    computed, or an ``id`` other than theirs (it says what is wrong)."""
    unusual: set[int] = set()
    if not ids_checked:
        unusual = {n for n, (entity_id, _) in enumerate(items) if not _plain_id(entity_id)}
    odd_keys = present - schema.writable.keys()
    if odd_keys == {"id"}:
        # Only ids beside the writable keys (as in most imports): an item is unusual
        # only if its id is not the item's own.
        unusual.update(
            n for n, (entity_id, v) in enumerate(items) if "id" in v and v["id"] != entity_id
        )
    elif odd_keys:
        # One pass over the items, not one per odd key: a batch whose every item
        # has keys of its own would otherwise cost items times keys.
        writable = schema.writable.keys()
        for n, (entity_id, v) in enumerate(items):
            odd = v.keys() - writable
            if odd and (odd != {"id"} or v["id"] != entity_id):
                unusual.add(n)
    return unusual


def _plain_id(entity_id: str) -> bool:
    try:
        check_id(entity_id)
    except ValidationError:
        return False
    return True


def _validated(schema: Schema, item: tuple[str, Mapping[str, Any]], tz: tzinfo) -> Outcome:
    """``validate`` of one item: its document, or the error it raises."""
    entity_id, values = item
    try:
        return validate(schema, entity_id, values, tz=tz)
    except ValidationError as exc:
        return exc


# -- one attribute over the batch -------------------------------------------------------


@dataclass
class _Column:
    """What validating one attribute found: the positions of values that do not fit
    (or that this path leaves to ``validate``), and those stored otherwise than sent."""

    bad: list[int] = field(default_factory=list)
    fixes: list[tuple[int, Any]] = field(default_factory=list)
    same: set[Any] = field(default_factory=set)  # distinct values stored as sent


def _column(attribute: Attribute, raws: list[Any], tz: tzinfo, encoder: Encoder) -> _Column:
    if attribute.type in NUMBERS:
        return _numbers(attribute, raws)
    if attribute.type in CANONICAL:
        return _instants(attribute, raws, tz, encoder)
    column = _distinct(attribute, raws, tz)
    if attribute.type in FOLDED:
        encoder.fold_all(attribute.key, {stored for _, stored in column.fixes} | column.same)
    return column


def _numbers(attribute: Attribute, raws: list[Any]) -> _Column:
    """Ints and floats are stored as they are (a float of an integer attribute
    becomes its int); anything else is left to ``validate``."""
    column = _Column()
    whole = attribute.type is AttrType.INTEGER
    for at, raw in enumerate(raws):
        kind = type(raw)
        if kind is int:
            if not -MAX_SAFE_INTEGER <= raw <= MAX_SAFE_INTEGER:
                column.bad.append(at)
        elif kind is float:
            if not math.isfinite(raw):
                column.bad.append(at)
            elif whole:
                if raw.is_integer() and abs(raw) <= MAX_SAFE_INTEGER:
                    column.fixes.append((at, int(raw)))
                else:
                    column.bad.append(at)
        elif raw is None:
            column.fixes.append((at, DROP))
        elif raw is not MISSING:
            column.bad.append(at)
    return column


def _instants(attribute: Attribute, raws: list[Any], tz: tzinfo, encoder: Encoder) -> _Column:
    """Canonical spellings are their own stored form: parsed (and encoded) a column at
    a time; the rest are coerced one distinct value at a time."""
    canonical, count = _canonical(attribute, raws, encoder)
    if count + raws.count(MISSING) == len(raws):  # every value sent is canonical
        return _Column()
    rest = [MISSING if type(raw) is str and raw in canonical else raw for raw in raws]
    return _distinct(attribute, rest, tz)


def _canonical(
    attribute: Attribute, raws: list[Any], encoder: Encoder
) -> tuple[dict[str, int], int]:
    """The raw values spelled canonically (their own stored form), with their encoded
    forms (also given to ``encoder``), and how many of ``raws`` they are."""
    pattern, layout, dtype = CANONICAL[attribute.type]
    # Canonical spellings are ASCII; others (lone surrogates too) cannot be, nor enter Polars.
    texts = [raw if type(raw) is str and raw.isascii() else "" for raw in raws]
    series = pl.Series(texts, dtype=pl.String)
    parsed = series.str.strptime(dtype, layout, strict=False)
    plain = (
        series.str.contains(pattern)
        & parsed.dt.year().is_between(temporal.MIN_YEAR, temporal.MAX_YEAR)
    ).fill_null(False)
    # Keyed by the items' own strings, not copies out of Polars: their hashes are kept,
    # and the records' lookups find them by identity.
    strings = compress(texts, plain.to_list())
    found = dict(zip(strings, parsed.filter(plain).cast(pl.Int64).to_list(), strict=True))
    encoder.seed(attribute.key, found)
    return found, int(plain.sum())


def _distinct(attribute: Attribute, raws: list[Any], tz: tzinfo) -> _Column:
    """Every distinct value coerced once, with ``validate``'s own coercer."""
    kinds = set(map(type, raws))
    if attribute.type is AttrType.BOOLEAN and kinds <= {bool, type(MISSING)}:
        return _Column()  # flags are stored as they are sent
    if kinds <= {str, type(MISSING)} and attribute.type is not AttrType.STRING_LIST:
        return _distinct_strings(attribute, raws, tz)
    if kinds <= {list, type(MISSING)} and attribute.type is AttrType.STRING_LIST:
        column = _distinct_lists(attribute, raws, tz)
        if column is not None:
            return column
    return _distinct_any(attribute, raws, tz)


def _distinct_strings(attribute: Attribute, raws: list[Any], tz: tzinfo) -> _Column:
    """A column of strings only: equal strings are the same value, so each distinct one
    is coerced once and only the positions of those stored otherwise are visited."""
    coercer = COERCERS[attribute.type]
    column = _Column()
    distinct = set(raws)
    distinct.discard(MISSING)
    if attribute.type is AttrType.STRING and _kept_as_sent(distinct):
        column.same = distinct
        return column
    changed: dict[str, Any] = {}
    failed: set[str] = set()
    for raw in distinct:
        try:
            stored = coercer(attribute, raw, tz)
        except InvalidValueError:
            failed.add(raw)
            continue
        if stored != raw:
            changed[raw] = DROP if stored is None else stored
        else:
            column.same.add(raw)
    if changed or failed:
        for at, raw in enumerate(raws):
            if raw in failed:
                column.bad.append(at)
            elif raw in changed:
                column.fixes.append((at, changed[raw]))
    return column


def _kept_as_sent(texts: set[str]) -> bool:
    """Whether every one of ``texts`` is a string value stored as it is sent, as the
    coercer would find one by one: ASCII (so no lone surrogate) without NUL, not empty,
    no space at either end, within the length limit. Asked of the whole set with no
    Python step per string (emails and names are nearly all distinct)."""
    listed = list(texts)
    return (
        all(map(str.isascii, listed))
        and all(listed)
        and "\x00" not in "".join(listed)
        and listed == list(map(str.strip, listed))
        and max(map(len, listed), default=0) <= MAX_VALUE_LENGTH
    )


def _distinct_lists(attribute: Attribute, raws: list[Any], tz: tzinfo) -> _Column | None:
    """A column of lists only: each distinct list of strings coerced once, told apart by
    its items, each distinct item cleaned once (:mod:`batch_lists`); ``None`` if an item
    is not a string (left to :func:`_distinct_any`, which sends it to ``validate``). Every list is
    stored anew, as documents do not share them."""
    keys = [raw if raw is MISSING else tuple(raw) for raw in raws]
    try:
        distinct = set(keys)
    except TypeError:  # an item that cannot be hashed, so not a string
        return None
    distinct.discard(MISSING)
    if not all(type(item) is str for key in distinct for item in key):
        return None
    stored = string_lists(attribute, distinct, tz)
    column = _Column()
    bad, fixes = column.bad.append, column.fixes.append
    for at, key in enumerate(keys):
        if key is not MISSING:
            value = stored[key]
            if value is InvalidValueError:
                bad(at)
            else:
                fixes((at, DROP if value is None else list(value)))
    return column


def _distinct_any(attribute: Attribute, raws: list[Any], tz: tzinfo) -> _Column:
    """A column of mixed values: told apart by type too (``1``, ``1.0`` and ``True`` are
    equal in Python but not the same value here). Lists are always stored anew."""
    coercer = COERCERS[attribute.type]
    column = _Column()
    stored: dict[Any, Any] = {}
    for at, raw in enumerate(raws):
        if raw is MISSING:
            continue
        if raw is None:
            column.fixes.append((at, DROP))
            continue
        key = _key(raw)
        if key is not None and key not in stored:
            try:
                stored[key] = coercer(attribute, raw, tz)
            except InvalidValueError:
                stored[key] = InvalidValueError
        value = InvalidValueError if key is None else stored[key]
        if value is InvalidValueError:
            column.bad.append(at)
        elif value is None:
            column.fixes.append((at, DROP))
        elif type(value) is list:
            column.fixes.append((at, list(value)))  # documents do not share their lists
        elif type(value) is not type(raw) or value != raw:
            column.fixes.append((at, value))
        else:
            column.same.add(value)
    return column


def _key(raw: Any) -> Any:
    """What tells a raw value apart for memoising its coercion; ``None`` when it cannot
    be memoised (left to ``validate``)."""
    kind = type(raw)
    if kind is str or kind is bool:
        return (kind, raw)
    if (kind is list or kind is tuple) and all(type(item) is str for item in raw):
        return (list, tuple(raw))
    return None
