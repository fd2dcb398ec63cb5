"""Output of the command line: one JSON document for scripts, Rich tables for people.

The JSON documents take the HTTP API's shapes (SPEC §5), so a script can move
between the two: a segment's ``rule`` is ``{"text", "json"}``, lists are
``{"items": [...]}``, moments are ISO 8601 in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from segmentry.engine.types import ApiKey, Segment, Tenant, Use
from segmentry.model.schema import Attribute, Kind


def out() -> Console:
    """A console on stdout, made at each use: it reads the terminal's width (or
    ``COLUMNS``) when it prints, not when the module was imported."""
    return Console(highlight=False)


def err() -> Console:
    """The same on stderr: progress bars and error messages."""
    return Console(stderr=True, highlight=False)


def emit_json(document: object) -> None:
    """``document`` as indented JSON on stdout (datetimes in UTC with a ``Z``)."""
    option = orjson.OPT_INDENT_2 | orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
    typer.echo(orjson.dumps(document, default=_plain, option=option).decode())


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, frozenset | set):
        return sorted(value, key=str)
    raise TypeError(f"cannot show {type(value).__name__} as JSON")


def when(moment: datetime | None) -> str:
    """A moment for people: UTC, to the second."""
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def table(
    title: str | None, columns: Sequence[str], rows: Iterable[Sequence[object]], *, keep: int = 1
) -> None:
    """A Rich table on stdout; cells are plain text, never markup. The first ``keep``
    columns (ids, codes, keys) are never wrapped, so they can be copied whole."""
    shown = Table(title=title, title_justify="left")
    for number, name in enumerate(columns):
        shown.add_column(name, overflow="fold", no_wrap=number < keep)
    for row in rows:
        shown.add_row(*(_cell(value) for value in row))
    out().print(shown)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def line(text: str) -> None:
    """A line of plain text (no markup, no highlighting, no wrapping)."""
    out().print(text, markup=False, soft_wrap=True)


# -- documents -------------------------------------------------------------------------


def tenant_doc(tenant: Tenant) -> dict[str, Any]:
    return {
        "tenant_id": tenant.tenant_id,
        "name": tenant.name,
        "time_zone": tenant.time_zone,
        "created_at": tenant.created_at,
    }


def key_doc(key: ApiKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "name": key.name,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
    }


def segment_doc(segment: Segment) -> dict[str, Any]:
    """A segment as the API answers it."""
    rule = None
    if segment.rule_text is not None:
        rule = {"text": segment.rule_text, "json": segment.rule_json}
    return {
        "kind": segment.kind,
        "code": segment.code,
        "name": segment.name,
        "description": segment.description,
        "type": segment.type,
        "status": segment.status,
        "rule": rule,
        "member_count": segment.member_count,
        "version": segment.version,
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
    }


def use_doc(use: Use) -> dict[str, Any]:
    return {"id": use.use_id, "type": use.type, "name": use.name, "url": use.url}


def attribute_doc(kind: Kind, attribute: Attribute) -> dict[str, Any]:
    return {
        "kind": kind,
        "key": attribute.key,
        "label": attribute.label,
        "type": attribute.type,
        "values": list(attribute.values),
        "builtin": attribute.builtin,
        "derived": attribute.derived,
    }
