"""How ``segmentry segments`` shows segments, members, previews and explanations."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.tree import Tree

from segmentry.cli.output import emit_json, err, line, out, table
from segmentry.engine.types import EditPreview, Explanation, Member, Page, Preview, Segment, Use
from segmentry.errors import InUseError
from segmentry.rules.jsonform import from_json
from segmentry.rules.printer import flat, format_value

EXPLAINED = ("seen", "seen_other", "result")  # what explain adds to a condition's JSON form


def segment_table(segments: list[Segment]) -> None:
    rows = [(s.code, s.name, s.kind, s.type, s.status, s.member_count, s.version) for s in segments]
    table("Segments", ["code", "name", "kind", "type", "status", "members", "version"], rows)


def renamed(old_code: str, segment: Segment) -> None:
    line(f"Renamed segment {old_code!r} to {segment.code!r} (version {segment.version}).")


def in_use(refusal: InUseError, advice: str) -> None:
    """A refusal because of uses, on stderr: the message, each use, what to do."""
    console = err()
    console.print(f"error: {refusal.message}", style="red", markup=False, soft_wrap=True)
    for user in refusal.users:
        if "segment" in user:
            text = f"  the rule of segment {user['segment']!r}"
        else:
            url = f" <{user['url']}>" if user.get("url") else ""
            text = f"  {user['type']} {user['id']!r}: {user['name']}{url}"
        console.print(text, markup=False, soft_wrap=True)
    console.print(advice, markup=False, soft_wrap=True)


def segment_card(segment: Segment, uses: list[Use]) -> None:
    rows: list[tuple[str, object]] = [
        ("code", segment.code),
        ("name", segment.name),
        ("description", segment.description or None),
        ("kind", segment.kind),
        ("type", segment.type),
        ("status", segment.status),
        ("members", segment.member_count),
        ("version", segment.version),
        ("created", segment.created_at),
        ("updated", segment.updated_at),
    ]
    table(f"Segment {segment.code}", ["field", "value"], rows)
    if segment.rule_text is not None:
        line("Rule:")
        line(_indented(segment.rule_text))
    if uses:
        use_rows = [(u.use_id, u.type, u.name, u.url) for u in uses]
        table("Uses", ["id", "type", "name", "url"], use_rows)
    else:
        line("Uses: none")


def created(segment: Segment) -> None:
    line(
        f"Created {segment.type} {segment.kind} segment {segment.code!r} "
        f"({segment.status}) with {segment.member_count:,} members."
    )
    if segment.rule_text is not None:
        line(_indented(segment.rule_text))


def member_page(code: str, page: Page[Member], total: int) -> None:
    table(f"Members of {code}", ["id", "since"], [(m.id, m.since) for m in page.items])
    line(f"{len(page.items):,} shown of {total:,} members.")
    if page.next_cursor is not None:
        line(f"Next page: --cursor {page.next_cursor}")


def any_preview(shown: Preview | EditPreview, *, as_json: bool) -> None:
    if isinstance(shown, EditPreview):
        edit_preview(shown, as_json=as_json)
    else:
        preview(shown, as_json=as_json)


def preview(found: Preview, *, as_json: bool) -> None:
    if as_json:
        emit_json({"count": found.count, "sample": found.sample})
        return
    line(f"{found.count:,} would be members.")
    line(f"Sample: {', '.join(found.sample) or '-'}")


def edit_preview(edit: EditPreview, *, as_json: bool) -> None:
    if as_json:
        emit_json({
            "count": edit.count,
            "entering": edit.entering,
            "leaving": edit.leaving,
            "sample_entering": edit.sample_entering,
            "sample_leaving": edit.sample_leaving,
        })  # fmt: skip
        return
    line(f"{edit.count:,} would be members: {edit.entering:,} entering, {edit.leaving:,} leaving.")
    line(f"Entering, for example: {', '.join(edit.sample_entering) or '-'}")
    line(f"Leaving, for example: {', '.join(edit.sample_leaving) or '-'}")


def explanation(code: str, entity_id: str, found: Explanation) -> None:
    verdict = "is a member" if found.member else "is not a member"
    line(f"{entity_id} {verdict} of {code}.")
    tree = Tree(_label(found.tree), guide_style="dim")
    _grow(tree, found.tree)
    out().print(tree)


def _grow(branch: Tree, node: dict[str, Any]) -> None:
    for child in _children(node):
        _grow(branch.add(_label(child)), child)


def _children(node: dict[str, Any]) -> list[dict[str, Any]]:
    for key in ("and", "or"):
        if key in node:
            items: list[dict[str, Any]] = node[key]
            return items
    for key in ("not", "rule"):
        if key in node:
            return [node[key]]
    return []


def _label(node: dict[str, Any]) -> str:
    mark = "[green]✓[/]" if node["result"] else "[red]✗[/]"
    return f"{mark} {escape(_describe(node))}"


def _describe(node: dict[str, Any]) -> str:
    if "and" in node or "or" in node:
        return "all of" if "and" in node else "any of"
    if "not" in node:
        return "NOT"
    if "inactive" in node:
        return f"segment {node['inactive']} is inactive: it has no members"
    if "fixed" in node:
        return f"fixed segment {node['fixed']}: members are added by hand"
    condition = {k: v for k, v in node.items() if k not in EXPLAINED}
    text = flat(from_json(condition))
    if "attr" in node:
        seen = node["seen"]
        return f"{text}   (seen: {'nothing' if seen is None else _seen(seen)})"
    return text


def _seen(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_seen(v) for v in value) + "]"
    if isinstance(value, str | int | float | bool):
        return format_value(value)
    return str(value)


def _indented(text: str) -> str:
    return "\n".join(f"  {row}" for row in text.splitlines())
