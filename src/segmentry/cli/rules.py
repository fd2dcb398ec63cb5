"""``segmentry rules``: check a rule and print its canonical forms."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from segmentry.cli.options import rule_source
from segmentry.errors import Diagnostic, RuleError
from segmentry.rules.load import prepare
from segmentry.rules.schema import Kind, Schema

app = typer.Typer(help="Work with rules: check them, print their canonical forms.")
console = Console()


@app.command("check")
def check_rule(
    rule: Annotated[str, typer.Argument(help="The rule, as text or as its JSON form.")],
    kind: Annotated[Kind, typer.Option(help="What the rule selects.")] = Kind.PRODUCT,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Check a rule against the built-in attributes; print its text and JSON, or its errors."""
    source = rule_source(rule)
    try:
        checked = prepare(source, Schema(kind))
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


def _diag(d: Diagnostic) -> dict[str, object]:
    return {k: getattr(d, k) for k in ("message", "line", "column", "hint")}
