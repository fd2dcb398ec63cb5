"""The rule language in brief, linked from the rule editor's text mode (the page works
offline, so the help is served here rather than linked to docs on the internet)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from segmentry.rules.operators import OPERATORS
from segmentry.web import render


async def rules_help(request: Request) -> Response:
    rows = [(row.text, row.doc, ", ".join(sorted(t.value for t in row.types))) for row in OPERATORS]
    return render.page(request, "help_rules.html", operators=rows)


routes: list[BaseRoute] = [Route("/help/rules", rules_help)]
