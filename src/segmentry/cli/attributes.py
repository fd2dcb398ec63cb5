"""``segmentry attributes``: the built-in attributes and the tenant's custom ones."""

from __future__ import annotations

from typing import Annotated

import typer

from segmentry.cli.options import DEFAULT_DB, DbOption, JsonOption, TenantOption, shop_of
from segmentry.cli.output import attribute_doc, emit_json, line, table
from segmentry.model.schema import Attribute, AttrType, Kind

app = typer.Typer(help="List and declare attributes.", no_args_is_help=True)


@app.command("list")
def list_(
    kind: Annotated[Kind | None, typer.Option(help="Only this kind (default: every kind).")] = None,
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Every attribute rules can use: built-in ones first, then custom ones."""
    kinds = [kind] if kind else list(Kind)
    with shop_of(db, tenant) as shop:
        found = [(k, a) for k in kinds for a in shop.attributes(k)]
    if as_json:
        emit_json({"items": [attribute_doc(k, a) for k, a in found]})
        return
    rows = [(k, a.key, a.label, a.type, ", ".join(a.values) or None, _origin(a)) for k, a in found]
    table("Attributes", ["kind", "key", "label", "type", "values", "origin"], rows, keep=2)


def _origin(attribute: Attribute) -> str:
    if attribute.derived:
        return "built-in (derived)"
    return "built-in" if attribute.builtin else "custom"


@app.command("declare")
def declare(
    kind: Annotated[Kind, typer.Argument(metavar="KIND", help="product, customer or order.")],
    key: Annotated[
        str, typer.Argument(metavar="KEY", help="The key rules use, e.g. loyalty_status.")
    ],
    type_: Annotated[AttrType, typer.Argument(metavar="TYPE", help="The value type.")],
    label: Annotated[str, typer.Option(help="Shown in the web page, e.g. 'Loyalty Status'.")] = "",
    values: Annotated[
        list[str] | None, typer.Option("--value", help="An enum's allowed value (repeatable).")
    ] = None,
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Declare a custom attribute; values written later are checked against its type."""
    with shop_of(db, tenant) as shop:
        attribute = shop.declare_attribute(kind, key, type_, label=label, values=values or [])
    if as_json:
        emit_json(attribute_doc(kind, attribute))
        return
    a = attribute
    allowed = f" of {', '.join(a.values)}" if a.values else ""
    line(f"Declared {kind} attribute {a.key} ({a.label}): {a.type}{allowed}.")
