"""Templates: one Jinja2 environment, and the context every page gets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from segmentry.model.schema import SEGMENTED_KINDS, Kind
from segmentry.web import session
from segmentry.web.paths import entity_url, segments_url

TEMPLATES = Path(__file__).parent / "templates"
SECTIONS = {
    Kind.PRODUCT: ("Ecommerce", "Product segments"),
    Kind.CUSTOMER: ("Marketing", "Segmentation"),
}


def moment(value: datetime | str | None) -> str:
    """A moment as people read it: ``2024-03-15 12:00 UTC``."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def shown(value: Any) -> str:
    """An attribute value as a table cell shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return number(value)
    return str(value)


def number(value: float) -> str:
    """A number as a person wrote it: 40.33, not the 40.330000000000005 that adding
    40.31 and 0.02 in binary leaves. Every decimal of up to 15 significant digits
    reads back from its float unchanged, so 15 digits show what was written."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".15g")


def sentence(message: object) -> str:
    """A message as a sentence: a capital first letter and a full stop (the library's
    messages start in lower case, to be quoted inside others)."""
    text = str(message).strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else f"{text}."


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,  # a misspelt variable fails the tests, not the user
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        moment=moment, shown=shown, sentence=sentence, q=lambda v: quote(str(v), safe="")
    )
    env.globals.update(
        entity_url=entity_url,
        segments_url=segments_url,
        sections=SECTIONS,
        kinds=list(SEGMENTED_KINDS),
    )
    return env


ENV = _environment()


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A rendered template; every page knows the CSRF token and who is signed in."""
    current = session.current(request)
    context.setdefault("section", None)
    html = ENV.get_template(template).render(
        request=request,
        csrf_token=current.csrf,
        signed_in=current.key is not None,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)
