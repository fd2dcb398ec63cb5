"""``segmentry tenants``: the shops one installation serves."""

from __future__ import annotations

from typing import Annotated

import typer

from segmentry.cli.options import DEFAULT_DB, DbOption, JsonOption, opened
from segmentry.cli.output import emit_json, key_doc, line, table, tenant_doc

app = typer.Typer(help="Create and list tenants (one per shop).", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The shop's name.")],
    time_zone: Annotated[
        str, typer.Option("--time-zone", help="IANA zone for dates in rules, e.g. Europe/Madrid.")
    ] = "UTC",
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Create a tenant and its first API key; the key is printed alone on the last line."""
    with opened(db) as segmentry:
        tenant = segmentry.create_tenant(name, time_zone)
        key, plain = segmentry.issue_key(tenant.tenant_id, "created with the tenant")
    if as_json:
        emit_json({"tenant": tenant_doc(tenant), "key": key_doc(key), "api_key": plain})
        return
    line(f"Created tenant {tenant.tenant_id} {tenant.name!r} (time zone {tenant.time_zone}).")
    line(f"Its API key {key.key_id}, shown this once (only a hash is kept):")
    typer.echo(plain)


@app.command("list")
def list_(db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """Every tenant of the database."""
    with opened(db) as segmentry:
        tenants = segmentry.tenants()
    if as_json:
        emit_json({"items": [tenant_doc(t) for t in tenants]})
        return
    rows = [(t.tenant_id, t.name, t.time_zone, t.created_at) for t in tenants]
    table("Tenants", ["id", "name", "time zone", "created"], rows)
