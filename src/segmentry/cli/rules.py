"""``segmentry rules``: check a rule and print its canonical forms."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from segmentry.cli.options import TenantOption, rule_source, shop_of
from segmentry.errors import Diagnostic, RuleError
from segmentry.model.schema import Kind, Schema
from segmentry.rules.load import CheckedRule, RuleSource, prepare

app = typer.Typer(help="Work with rules: check them, print their canonical forms.")
console = Console()
CheckDbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="SEGMENTRY_DB",
        help="Check against this database's tenant (its custom attributes and segments).",
        show_default=False,
    ),
]


@app.command("check")
def check_rule(
    rule: Annotated[str, typer.Argument(help="The rule, as text or as its JSON form.")],
    kind: Annotated[Kind, typer.Option(help="What the rule selects.")] = Kind.PRODUCT,
    db: CheckDbOption = None,
    tenant: TenantOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Check a rule and print its text and JSON, or its errors: against a tenant's own
    attributes and segments with --db, else against the built-in attributes."""
    source = rule_source(rule)
    try:
        checked = _checked(source, kind, db, tenant)
    except RuleError as exc:
        if as_json:
            typer.echo(json.dumps({"errors": [_diag(d) for d in exc.diagnostics]}))
        else:
            console.print(exc.render(), style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps({"text": checked.text, "json": checked.json}))
        return
    console.print(checked.text, markup=False, highlight=False)
    console.print(json.dumps(checked.json, ensure_ascii=False), markup=False, highlight=False)


def _checked(source: RuleSource, kind: Kind, db: str | None, tenant: int | None) -> CheckedRule:
    if db is None:
        return prepare(source, Schema(kind))
    with shop_of(db, tenant) as shop:
        return shop.check_rule(kind, source)


def _diag(d: Diagnostic) -> dict[str, object]:
    return {k: getattr(d, k) for k in ("message", "line", "column", "hint")}
