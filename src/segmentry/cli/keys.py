"""``segmentry keys``: a tenant's API keys (shown once, stored hashed)."""

from __future__ import annotations

from typing import Annotated

import typer

from segmentry.cli.options import DEFAULT_DB, DbOption, JsonOption, TenantOption, opened, tenant_of
from segmentry.cli.output import emit_json, key_doc, line, table

app = typer.Typer(help="Create, list and revoke a tenant's API keys.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What the key is for.")] = "",
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Issue a new API key; it is printed alone on the last line, this once."""
    with opened(db) as segmentry:
        tenant_id = tenant_of(segmentry, tenant)
        key, plain = segmentry.issue_key(tenant_id, name)
    if as_json:
        emit_json({"tenant_id": tenant_id, "key": key_doc(key), "api_key": plain})
        return
    line(f"Created API key {key.key_id} for tenant {tenant_id}, shown this once:")
    typer.echo(plain)


@app.command("list")
def list_(
    tenant: TenantOption = None, db: DbOption = DEFAULT_DB, as_json: JsonOption = False
) -> None:
    """The tenant's keys, revoked ones with when they were revoked (never the keys themselves)."""
    with opened(db) as segmentry:
        keys = segmentry.keys(tenant_of(segmentry, tenant))
    if as_json:
        emit_json({"items": [key_doc(k) for k in keys]})
        return
    rows = [(k.key_id, k.name, k.created_at, k.revoked_at) for k in keys]
    table("API keys", ["key id", "name", "created", "revoked"], rows)


@app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="The key's id (see keys list).")],
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Revoke a key: it stops authenticating at once."""
    with opened(db) as segmentry:
        tenant_id = tenant_of(segmentry, tenant)
        segmentry.revoke_key(tenant_id, key_id)
    if as_json:
        emit_json({"tenant_id": tenant_id, "key_id": key_id, "revoked": True})
        return
    line(f"Revoked API key {key_id} of tenant {tenant_id}.")
