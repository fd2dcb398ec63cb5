"""Entity values: validation against a schema, and the encoding evaluators read.

Two forms of an entity's attributes exist:

* the **document** (:func:`validate`): what is stored and shown; strings
  trimmed, enum values in their declared spelling, dates ``YYYY-MM-DD``,
  date-times ISO 8601 in UTC, lists without duplicates;
* the **record** (:func:`encode`): what every evaluator compares against;
  strings case-folded, dates as day numbers, date-times as microseconds since
  the epoch, lists as sorted tuples of folded strings. Missing values, empty
  strings and empty lists are absent keys.

Because the folding and the time arithmetic happen here, once, in Python, the
Python, SQL and columnar evaluators all see the same values and agree exactly.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from segmentry.errors import ValidationError
from segmentry.model import temporal
from segmentry.model.limits import MAX_SAFE_INTEGER
from segmentry.model.schema import Attribute, AttrType, Schema
from segmentry.model.suggest import suggest

MAX_ID_LENGTH = 255
MAX_VALUE_LENGTH = 65_536
MAX_LIST_LENGTH = 1_000
MAX_ITEM_LENGTH = 1_000
MAX_SUGGESTED = 3
"""Unknown keys of one entity named (each with the key probably meant) before the
rest are only counted: a suggestion costs a comparison with every known key, and a
body may hold hundreds of thousands of unknown keys."""
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""What a stored string cannot hold: NUL (PostgreSQL refuses it) and lone surrogates."""

Document = dict[str, Any]
Record = dict[str, Any]


def fold(text: str) -> str:
    """The case-insensitive form of a string: NFC-normalised, then case-folded."""
    return unicodedata.normalize("NFC", text).casefold()


def check_id(entity_id: object, *, what: str = "id") -> str:
    """An id from outside (an entity's, a use's), or a ValidationError saying what is
    wrong with it: ids are 1 to 255 characters, without control characters (or lone
    surrogates) and without spaces at either end."""
    if not isinstance(entity_id, str):
        raise ValidationError(f"{what} must be a string, got {_show(entity_id)}", field=what)
    if not entity_id:
        raise ValidationError(f"{what} must not be empty", field=what)
    if len(entity_id) > MAX_ID_LENGTH:
        raise ValidationError(
            f"{what} is {len(entity_id)} characters long; the limit is {MAX_ID_LENGTH}", field=what
        )
    if CONTROL_OR_SURROGATE.search(entity_id):
        raise ValidationError(f"{what} {entity_id!r} contains a control character", field=what)
    if entity_id != entity_id.strip():
        # " p1" and "p1" would be two entities no person can tell apart.
        raise ValidationError(
            f"{what} {entity_id!r} starts or ends with a space; ids cannot", field=what
        )
    return entity_id


CONTROL_OR_SURROGATE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""The characters of Unicode categories Cc and Cs (a regular expression scans an id
many times faster than asking each character its category)."""


def check_text(
    value: object, *, field: str, max_length: int, multiline: bool = False, required: bool = True
) -> str:
    """Free text from outside (names, labels, descriptions): a string within its length,
    without NUL, lone surrogates or control characters (line breaks and tabs where
    ``multiline``), which PostgreSQL refuses and terminals render badly."""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string, got {_show(value)}", field=field)
    if required and not value.strip():
        raise ValidationError(f"{field} must not be empty", field=field)
    if len(value) > max_length:
        raise ValidationError(f"{field} is longer than {max_length:,} characters", field=field)
    allowed = "\n\t\r" if multiline else ""
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in value):
        raise ValidationError(f"{field} contains a control character", field=field)
    return value


def validate(
    schema: Schema, entity_id: str, values: Mapping[str, Any], *, tz: tzinfo = UTC
) -> Document:
    """Check ``values`` against ``schema`` and return the stored document.

    Every problem is collected; the ValidationError lists them all and names
    the entity, the attribute, the value and the expected type.
    """
    check_id(entity_id)
    doc: Document = {"id": entity_id}
    problems: list[str] = []
    unknown = 0
    writable = schema.writable
    for key, raw in values.items():
        attribute = writable.get(key) if raw is not None else None
        if attribute is not None:  # the common case, without the detours of ``_put``
            try:
                value = COERCERS[attribute.type](attribute, raw, tz)
                if value is not None:
                    doc[key] = value
                continue
            except InvalidValueError:
                pass  # ``_put`` says what is wrong
        if not isinstance(key, str) or schema.get(key) is None:
            unknown += 1
            if unknown <= MAX_SUGGESTED:
                problems.append(_unknown(schema, entity_id, key))
            continue
        try:
            _put(schema, entity_id, doc, key, raw, tz=tz)
        except ValidationError as exc:
            problems.append(exc.message)
    if unknown > MAX_SUGGESTED:
        more = unknown - MAX_SUGGESTED
        problems.append(
            f"{schema.kind} {entity_id}: and {more:,} more unknown attribute{'s' * (more > 1)}"
        )
    if problems:
        raise ValidationError(problems[0], field=str(entity_id), problems=problems)
    return doc


def _put(schema: Schema, entity_id: str, doc: Document, key: str, raw: Any, *, tz: tzinfo) -> None:
    attribute = _attribute(schema, entity_id, key)
    if attribute.key == "id":
        if raw is not None and raw != entity_id:
            raise ValidationError(
                f"{schema.kind} {entity_id}: id {_show(raw)} differs from the path id"
            )
        return
    if attribute.derived:
        raise ValidationError(
            f"{schema.kind} {entity_id}: {attribute.key} is computed by segmentry "
            "and cannot be written"
        )
    if raw is None:
        return
    value = coerce(attribute, raw, tz=tz, where=f"{schema.kind} {entity_id}")
    if value is not None:
        doc[attribute.key] = value


def _attribute(schema: Schema, entity_id: str, key: str) -> Attribute:
    """The attribute ``key`` names, or a ValidationError that proposes the one meant."""
    attribute = schema.get(key) if isinstance(key, str) else None
    if attribute is None:
        raise ValidationError(_unknown(schema, entity_id, key))
    return attribute


def _unknown(schema: Schema, entity_id: str, key: object) -> str:
    """What is wrong with an unknown key, with the key probably meant."""
    close = suggest(str(key).lower(), [a.key for a in schema])
    hint = f"; {close}" if close else ""
    return f"{schema.kind} {entity_id}: unknown attribute {_show(key)}{hint}"


def coerce(attribute: Attribute, raw: Any, *, tz: tzinfo = UTC, where: str = "") -> Any:
    """The stored form of one value, or a ValidationError naming value and type.

    Returns ``None`` for values that count as missing (empty strings and lists).
    """
    try:
        return COERCERS[attribute.type](attribute, raw, tz)
    except InvalidValueError as exc:
        prefix = f"{where}: " if where else ""
        detail = f" ({exc.args[0]})" if exc.args and exc.args[0] else ""
        raise ValidationError(
            f"{prefix}{attribute.key} must be {attribute.described}, got {_show(raw)}{detail}",
            field=attribute.key,
        ) from None


class InvalidValueError(Exception):
    """A coercer's refusal: the value does not fit; carries an optional detail.
    Not a :class:`SegmentryError`: :func:`coerce` words it as a ValidationError."""


def _show(raw: Any) -> str:
    text = repr(raw)
    return text if len(text) <= 80 else text[:77] + "..."


def _string(attribute: Attribute, raw: Any, tz: tzinfo) -> str | None:
    if not isinstance(raw, str):
        raise InvalidValueError("")
    return _clean_text(raw, MAX_VALUE_LENGTH) or None


def _clean_text(raw: str, limit: int) -> str:
    bad = _UNSTORABLE.search(raw)
    if bad is not None:
        if bad.group() == "\x00":
            raise InvalidValueError("strings cannot hold the NUL character")
        raise InvalidValueError("strings cannot hold lone surrogates")
    text = raw.strip()
    if len(text) > limit:
        raise InvalidValueError(f"longer than {limit:,} characters")
    return text


def _enum(attribute: Attribute, raw: Any, tz: tzinfo) -> str | None:
    text = _string(attribute, raw, tz)
    if text is None:
        return None
    declared = attribute.folded_values.get(text.casefold())
    if declared is None:
        raise InvalidValueError(f"expected one of {', '.join(attribute.values)}")
    return declared


def _number(attribute: Attribute, raw: Any, tz: tzinfo) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
        raise InvalidValueError("")
    if isinstance(raw, int):
        return _safe_int(raw)
    value = float(raw)
    if not math.isfinite(value):
        raise InvalidValueError("numbers must be finite")
    return value


def _integer(attribute: Attribute, raw: Any, tz: tzinfo) -> int:
    value = _number(attribute, raw, tz)
    if isinstance(value, float):
        if not value.is_integer():
            raise InvalidValueError("not a whole number")
        return _safe_int(int(value))
    return value


def _safe_int(value: int) -> int:
    if abs(value) > MAX_SAFE_INTEGER:
        raise InvalidValueError(f"integers are limited to ±{MAX_SAFE_INTEGER:,}")
    return value


def _boolean(attribute: Attribute, raw: Any, tz: tzinfo) -> bool:
    if not isinstance(raw, bool):
        raise InvalidValueError("")
    return raw


def _date(attribute: Attribute, raw: Any, tz: tzinfo) -> str:
    if isinstance(raw, datetime) or not isinstance(raw, str | date):
        raise InvalidValueError("YYYY-MM-DD")
    text = raw.isoformat() if isinstance(raw, date) else raw.strip()
    parsed = _read(text)
    if not isinstance(parsed, temporal.AbsoluteDate):
        raise InvalidValueError("YYYY-MM-DD")
    return parsed.day.isoformat()


def _datetime(attribute: Attribute, raw: Any, tz: tzinfo) -> str:
    if isinstance(raw, datetime):
        moment = raw if raw.tzinfo else raw.replace(tzinfo=tz)
        _check_year(moment.year)
    elif isinstance(raw, str):
        moment = _parse_datetime(raw.strip(), tz)
    else:
        raise InvalidValueError("ISO 8601, such as 2024-03-01T10:00:00Z")
    return format_instant(moment)


_PLAIN_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)
"""The usual spelling of an instant, read by ``datetime.fromisoformat`` directly
(imports are full of them); anything else, or anything it refuses, goes through
the general reader, which names what is wrong."""


def _parse_datetime(text: str, tz: tzinfo) -> datetime:
    if _PLAIN_INSTANT.fullmatch(text):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            if temporal.MIN_YEAR <= moment.year <= temporal.MAX_YEAR:
                return moment if moment.tzinfo else moment.replace(tzinfo=tz)
    if len(text) > 10 and text[10] == " ":
        text = text[:10] + "T" + text[11:]
    parsed = _read(text)
    if isinstance(parsed, temporal.AbsoluteDate):
        return datetime(parsed.day.year, parsed.day.month, parsed.day.day, tzinfo=tz)
    if not isinstance(parsed, temporal.AbsoluteDateTime):
        raise InvalidValueError("ISO 8601, such as 2024-03-01T10:00:00Z")
    moment = parsed.moment
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _read(text: str) -> temporal.Temporal | None:
    try:
        return temporal.read_temporal(text)
    except temporal.TemporalError as exc:
        raise InvalidValueError(str(exc)) from None


def _check_year(year: int) -> None:
    if not temporal.MIN_YEAR <= year <= temporal.MAX_YEAR:
        raise InvalidValueError(f"year {year} is outside {temporal.MIN_YEAR}..{temporal.MAX_YEAR}")


def format_instant(moment: datetime) -> str:
    """The stored spelling of a moment: ISO 8601 in UTC with a ``Z``."""
    utc = moment.astimezone(UTC)
    spec = "microseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _string_list(attribute: Attribute, raw: Any, tz: tzinfo) -> list[str] | None:
    if isinstance(raw, str) or not isinstance(raw, list | tuple):
        raise InvalidValueError("a list of strings")
    if len(raw) > MAX_LIST_LENGTH:
        raise InvalidValueError(f"at most {MAX_LIST_LENGTH:,} items")
    out: dict[str, str] = {}
    for item in raw:
        if not isinstance(item, str):
            raise InvalidValueError(f"item {_show(item)} is not a string")
        text = _clean_text(item, MAX_ITEM_LENGTH)
        if text:
            out.setdefault(fold(text), text)
    return list(out.values()) or None


COERCERS = {
    AttrType.STRING: _string,
    AttrType.ENUM: _enum,
    AttrType.NUMBER: _number,
    AttrType.INTEGER: _integer,
    AttrType.BOOLEAN: _boolean,
    AttrType.DATE: _date,
    AttrType.DATETIME: _datetime,
    AttrType.STRING_LIST: _string_list,
}


def encode(schema: Schema, doc: Mapping[str, Any]) -> Record:
    """The evaluation record of a stored document (see the module docstring)."""
    record: Record = {}
    by_key = schema.by_key
    for key, value in doc.items():
        attribute = by_key.get(key)
        if attribute is not None and value is not None:
            record[key] = ENCODERS[attribute.type](value)
    return record


def encode_value(type_: AttrType, value: Any) -> Any:
    """One stored value in its evaluation form."""
    return ENCODERS[type_](value)


def _same(value: Any) -> Any:
    return value


def _encode_list(value: Any) -> tuple[str, ...]:
    return tuple(sorted({fold(item) for item in value}))


def _encode_date(value: str) -> int:
    return temporal.to_day_number(date.fromisoformat(value))


def _encode_datetime(value: str) -> int:
    return temporal.to_micros(datetime.fromisoformat(value))


ENCODERS: dict[AttrType, Callable[[Any], Any]] = {
    AttrType.STRING: fold,
    AttrType.ENUM: fold,
    AttrType.NUMBER: _same,
    AttrType.INTEGER: _same,
    AttrType.BOOLEAN: _same,
    AttrType.DATE: _encode_date,
    AttrType.DATETIME: _encode_datetime,
    AttrType.STRING_LIST: _encode_list,
}
