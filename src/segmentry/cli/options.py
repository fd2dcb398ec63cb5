"""What every command shares: the ``--db``, ``--tenant`` and ``--json`` options,
opening a Segmentry and a tenant's shop, and turning library errors into a
message on stderr and exit code 1 (never a traceback)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from segmentry.cli.output import err
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.errors import RuleError, SegmentryError
from segmentry.rules.load import RuleSource
from segmentry.store.database import DEFAULT_URL

DbOption = Annotated[
    str,
    typer.Option(
        "--db", envvar="SEGMENTRY_DB", help="Database URL (sqlite:///file.db or postgresql://...)."
    ),
]
TenantOption = Annotated[
    int | None,
    typer.Option(
        "--tenant",
        envvar="SEGMENTRY_TENANT",
        help="Tenant id (default: the database's first tenant).",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout, for scripts.")
]

DEFAULT_DB = DEFAULT_URL


@contextmanager
def reported() -> Iterator[None]:
    """A library error inside becomes its message on stderr and exit code 1."""
    try:
        yield
    except RuleError as exc:
        # soft_wrap: a wrapped line would move the carets off the text they point at
        err().print(exc.render(), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except SegmentryError as exc:
        err().print(f"error: {exc.message}", style="red", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None


@contextmanager
def opened(db: str, *, memory_budget: int | None = None) -> Iterator[Segmentry]:
    """A Segmentry over ``db``, with its errors reported."""
    with reported(), Segmentry(db, memory_budget=memory_budget) as segmentry:
        yield segmentry


@contextmanager
def shop_of(db: str, tenant: int | None) -> Iterator[Shop]:
    """The tenant's shop (the first tenant's when none is given), errors reported."""
    with opened(db) as segmentry:
        if tenant is None:
            yield segmentry.default_shop()
        else:
            segmentry.tenant(tenant)  # an unknown tenant is named here, before any call
            yield segmentry.shop(tenant)


def tenant_of(segmentry: Segmentry, tenant: int | None) -> int:
    """The id of the given tenant (checked to exist) or of the first one."""
    if tenant is None:
        return segmentry.default_shop().tenant_id
    return segmentry.tenant(tenant).tenant_id


def rule_source(text: str) -> RuleSource:
    """A rule as given on the command line: its text, or its JSON form when it is an object."""
    if not text.lstrip().startswith("{"):
        return text
    try:
        parsed: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"the rule starts with {{ but is not valid JSON: {exc}") from None
    return parsed
