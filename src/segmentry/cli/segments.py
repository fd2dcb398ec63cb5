"""``segmentry segments``: list, show, create, rename, members, preview and explain."""

from __future__ import annotations

from typing import Annotated

import typer

from segmentry.cli import segment_views as views
from segmentry.cli.options import (
    DEFAULT_DB,
    DbOption,
    JsonOption,
    TenantOption,
    rule_source,
    shop_of,
)
from segmentry.cli.output import emit_json, segment_doc, use_doc
from segmentry.engine.types import (
    EditPreview,
    Preview,
    SegmentEdit,
    SegmentSpec,
    SegmentType,
    Status,
)
from segmentry.errors import InUseError
from segmentry.model.schema import Kind

app = typer.Typer(help="Product and customer segments.", no_args_is_help=True)

CodeArgument = Annotated[
    str, typer.Argument(metavar="CODE", help="The segment's code, e.g. engageNoOrders.")
]
LimitOption = Annotated[int, typer.Option("--limit", help="How many to show (1 to 1,000).")]


@app.command("list")
def list_(
    kind: Annotated[Kind | None, typer.Option(help="Only segments of this kind.")] = None,
    type_: Annotated[SegmentType | None, typer.Option("--type", help="Only this type.")] = None,
    status: Annotated[Status | None, typer.Option(help="Only this status.")] = None,
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """The tenant's segments with their kind, type, status and member count."""
    with shop_of(db, tenant) as shop:
        segments = shop.segments(kind, type_, status)
    if as_json:
        emit_json({"items": [segment_doc(s) for s in segments]})
    else:
        views.segment_table(segments)


@app.command("show")
def show(
    code: CodeArgument,
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """One segment: its definition, member count, version and uses."""
    with shop_of(db, tenant) as shop:
        segment = shop.segment(code)
        uses = shop.uses(code)
    if as_json:
        emit_json(segment_doc(segment) | {"uses": [use_doc(u) for u in uses]})
    else:
        views.segment_card(segment, uses)


@app.command("create")
def create(
    code: CodeArgument,
    kind: Annotated[Kind, typer.Option(help="product or customer (fixed at creation).")],
    name: Annotated[str, typer.Option(help="Display name.")],
    rule: Annotated[
        str | None, typer.Option(help="Dynamic segments: the rule, as text or its JSON form.")
    ] = None,
    type_: Annotated[SegmentType, typer.Option("--type", help="dynamic or fixed.")] = (
        SegmentType.DYNAMIC
    ),
    members: Annotated[
        list[str] | None,
        typer.Option("--member", help="Fixed segments: a member's id (repeatable)."),
    ] = None,
    description: Annotated[str, typer.Option(help="Optional text.")] = "",
    status: Annotated[Status, typer.Option(help="active or inactive.")] = Status.ACTIVE,
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Create a segment; its members are ready when the command returns."""
    spec = SegmentSpec(
        kind=kind,
        code=code,
        name=name,
        type=type_,
        status=status,
        description=description,
        rule=rule_source(rule) if rule is not None else None,
        members=list(members or []),
    )
    with shop_of(db, tenant) as shop:
        segment = shop.create_segment(spec)
    if as_json:
        emit_json(segment_doc(segment))
    else:
        views.created(segment)


@app.command("rename")
def rename(
    code: CodeArgument,
    new_code: Annotated[str, typer.Argument(metavar="NEW_CODE", help="The segment's new code.")],
    force: Annotated[
        bool, typer.Option("--force", help="Rename even if the segment has uses.")
    ] = False,
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Give a segment a new code. Refused, with its uses listed, while something uses
    the segment (it asks for it by its old code), unless --force."""
    with shop_of(db, tenant) as shop:
        try:
            segment = shop.edit_segment(code, SegmentEdit(code=new_code), force=force)
        except InUseError as refusal:
            views.in_use(refusal, "rename it with --force to override")
            raise typer.Exit(1) from None
    if as_json:
        emit_json(segment_doc(segment))
    else:
        views.renamed(code, segment)


@app.command("members")
def members(
    code: CodeArgument,
    limit: LimitOption = 100,
    cursor: Annotated[str | None, typer.Option(help="Where the last page ended.")] = None,
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """A page of a segment's members with since when; --cursor reads the next page."""
    with shop_of(db, tenant) as shop:
        page = shop.members(code, limit=limit, cursor=cursor)
        total = shop.segment(code).member_count
    if as_json:
        items = [{"id": m.id, "since": m.since} for m in page.items]
        emit_json({"items": items, "next_cursor": page.next_cursor})
    else:
        views.member_page(code, page, total)


@app.command("preview")
def preview(
    rule: Annotated[
        str, typer.Argument(metavar="RULE", help="The rule, as text or its JSON form.")
    ],
    kind: Annotated[Kind | None, typer.Option(help="Preview a new rule of this kind.")] = None,
    segment: Annotated[
        str | None, typer.Option(help="Preview this segment's rule becoming RULE.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Sample size (1 to 1,000).")] = 10,
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """What a rule would select now (--kind), or who would enter and leave a segment if
    its rule changed (--segment); nothing is saved."""
    if (kind is None) == (segment is None):
        raise typer.BadParameter("give either --kind (a new rule) or --segment (an edit)")
    source = rule_source(rule)
    shown: Preview | EditPreview
    with shop_of(db, tenant) as shop:
        if segment is not None:
            shown = shop.preview_edit(segment, source, limit=limit)
        elif kind is not None:
            shown = shop.preview(kind, source, limit=limit)
    views.any_preview(shown, as_json=as_json)


@app.command("explain")
def explain(
    code: CodeArgument,
    entity_id: Annotated[str, typer.Argument(metavar="ID", help="The product's or customer's id.")],
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Why an entity is in a segment or not: each condition, the value seen, its result."""
    with shop_of(db, tenant) as shop:
        explanation = shop.explain(code, entity_id)
    if as_json:
        emit_json({"member": explanation.member, "tree": explanation.tree})
    else:
        views.explanation(code, entity_id, explanation)
