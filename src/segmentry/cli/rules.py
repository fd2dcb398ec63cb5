"""``segmentry rules``: check a rule and print its canonical forms; convert it."""

from __future__ import annotations

import json
from datetime import UTC, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console

from segmentry.cli.options import TenantOption, rule_source, shop_of
from segmentry.errors import ConversionError, Diagnostic, RuleError
from segmentry.model.schema import Kind, Schema
from segmentry.rules import convert
from segmentry.rules.load import CheckedRule, RuleSource, prepare

app = typer.Typer(help="Work with rules: check them, print their canonical forms, convert them.")
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


FORMAT_HELP = "text, json, jsonlogic, querybuilder (react-querybuilder) or shopify"


@app.command("convert")
def convert_rule(
    rule: Annotated[str, typer.Argument(help="The rule: text, or JSON for the JSON formats.")],
    source: Annotated[str, typer.Option("--from", help=f"Its format: {FORMAT_HELP}.")],
    target: Annotated[str, typer.Option("--to", help=f"The format wanted: {FORMAT_HELP} or sql.")],
    dialect: Annotated[
        str | None,
        typer.Option(help="With --to sql: sqlite, postgres, duckdb, bigquery or snowflake."),
    ] = None,
    kind: Annotated[Kind, typer.Option(help="What the rule selects.")] = Kind.PRODUCT,
    zone: Annotated[
        str | None,
        typer.Option(
            help="The tenant's time zone (IANA name, e.g. Europe/Madrid) that dates and "
            "relative times are days in; default UTC, or with --db the tenant's own.",
            show_default=False,
        ),
    ] = None,
    db: CheckDbOption = None,
    tenant: TenantOption = None,
) -> None:
    """Translate a rule between formats and print it (JSON for the JSON formats); what
    the target cannot say exactly is refused, naming the construct and where it is."""
    value = _source_value(rule, source)
    tz = _zone(zone, db)
    try:
        if db is None:
            out = convert.convert(value, kind=kind, source=source, target=target,
                                  dialect=dialect, tz=tz)  # fmt: skip
        else:
            with shop_of(db, tenant) as shop:
                out = shop.convert_rule(kind, value, source=source, target=target, dialect=dialect)
    except RuleError as exc:
        console.print(exc.render(), style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    except ConversionError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    typer.echo(out if isinstance(out, str) else json.dumps(out, ensure_ascii=False))


def _zone(name: str | None, db: str | None) -> tzinfo:
    """The zone ``--zone`` names (UTC without it); with ``--db`` the tenant's is used."""
    if name is None:
        return UTC
    if db is not None:
        raise typer.BadParameter(
            "with --db the tenant's own time zone is used; leave --zone out", param_hint="--zone"
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Madrid",
            param_hint="--zone",
        ) from None


def _source_value(rule: str, source: str) -> Any:
    """Text formats take the argument as it is; the others read it as JSON."""
    if source in ("text", "shopify"):
        return rule
    if source == "json":
        return rule_source(rule)
    try:
        return json.loads(rule)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"a {source} rule is JSON: {exc}") from None
