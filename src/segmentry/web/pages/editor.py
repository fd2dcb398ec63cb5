"""Create and edit a segment; the rule editor's htmx fragments (rows, preview).

Every request carries the whole form. The editor's buttons post it to the
fragment endpoints with htmx; without JavaScript they post it to the save
endpoint, which then applies the button and shows the page again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from segmentry.engine.shop import Shop
from segmentry.engine.types import Segment, SegmentEdit, SegmentSpec, SegmentType, Status, Use
from segmentry.errors import (
    AlreadyExistsError,
    ConflictError,
    InUseError,
    NotFoundError,
    RuleError,
    ValidationError,
)
from segmentry.model.schema import SEGMENTED_KINDS, Kind
from segmentry.rules.load import RuleSource
from segmentry.web import render
from segmentry.web.auth import shop_of
from segmentry.web.csrf import post
from segmentry.web.editor import behaviour, editing, shapes
from segmentry.web.editor.builder import Attributes, Row
from segmentry.web.editor.live import PreviewView, preview, suggestions
from segmentry.web.editor.view import items_view
from segmentry.web.paths import kind_of

FIELDS = ("name", "code", "description", "type", "status")


@dataclass
class Form:
    """Everything the form page shows: the segment's fields, the rule editor, errors."""

    kind: Kind
    values: dict[str, str]
    editor: editing.Editor
    attributes: Attributes
    codes: list[str]
    segment: Segment | None = None
    errors: dict[str, str] | None = None
    conflict: Segment | None = None
    in_use: list[Use] | None = None
    """After a rename refused because of uses: the uses, shown with an offer to force."""
    copy_of: str = ""
    """The name of the segment a new one duplicates."""

    @property
    def dynamic(self) -> bool:
        return self.values.get("type") != SegmentType.FIXED.value


def _fields(form: FormData) -> list[tuple[str, str]]:
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


def _context(shop: Shop, kind: Kind, own: str | None) -> tuple[Attributes, list[str]]:
    attributes = {a.key: a for a in shop.attributes(kind)}
    codes = [s.code for s in shop.segments(kind) if s.code != own]
    return attributes, codes


def _page(request: Request, shop: Shop, form: Form, status: int = 200) -> Response:
    code = form.segment.code if form.segment else None
    ruled = form.dynamic or form.segment is None  # a new one may still become dynamic
    shown = preview(shop, form.kind, code, form.editor, form.attributes) if ruled else None
    return render.page(
        request,
        "segments/form.html",
        status,
        section=f"{form.kind.value}-segments",
        form=form,
        **_editor_context(form, shown, shop),
    )


def _editor_context(form: Form, shown: PreviewView | None, shop: Shop) -> dict[str, Any]:
    other = Kind.PRODUCT if form.kind is Kind.CUSTOMER else Kind.CUSTOMER
    cross = [s.code for s in shop.segments(other)]  # what a behaviour row's condition names
    return {
        "suggestions": suggestions(shop, form.kind, form.editor, form.attributes),
        "kind": form.kind,
        "editor": form.editor,
        "items": items_view(form.editor, form.attributes, form.codes, cross),
        "behaviours": behaviour.choices(form.kind.value),
        "functions": shapes.function_choices(form.attributes.values()),
        "attributes": list(form.attributes.values()),
        "preview": shown,
        "original_code": form.segment.code if form.segment else "",
        "caret": editing.caret,
    }


# -- create -----------------------------------------------------------------------------


async def new_form(request: Request) -> Response:
    kind, shop = kind_of(request), shop_of(request)
    attributes, codes = _context(shop, kind, None)
    wanted = request.query_params.get("type", SegmentType.DYNAMIC.value)
    values = dict.fromkeys(FIELDS, "") | {
        "type": wanted if wanted in set(SegmentType) else "dynamic",
        "status": "active",
    }
    form = Form(kind, values, editing.Editor(items=[Row()]), attributes, codes)
    return _page(request, shop, form)


async def duplicate_form(request: Request) -> Response:
    """ "Duplicate": the create form, filled in from a segment (its rule included; a
    fixed segment's members are not copied). Nothing is saved until "Create"."""
    shop = shop_of(request)
    segment = shop.segment(request.path_params["code"])
    attributes, codes = _context(shop, segment.kind, None)
    values = _values_of(segment) | {
        "name": f"Copy of {segment.name}"[:200],
        "code": _free_code(shop, f"{segment.code}Copy"[:60]),
    }
    editor = editing.from_rule(segment.rule_json, attributes)
    form = Form(segment.kind, values, editor, attributes, codes, copy_of=segment.name)
    return _page(request, shop, form)


def _free_code(shop: Shop, code: str) -> str:
    """``code``, or with the first number that makes it unused: ``vipCopy2``."""
    candidate, n = code, 1
    while _taken(shop, candidate) and n < 100:
        n += 1
        candidate = f"{code}{n}"
    return candidate


async def create(request: Request, data: FormData) -> Response:
    kind, shop = kind_of(request), shop_of(request)
    attributes, codes = _context(shop, kind, None)
    fields = _fields(data)
    values = {k: str(data.get(k, "")) for k in FIELDS}
    form = Form(kind, values, editing.from_form(fields, attributes), attributes, codes)
    if str(data.get("action", "save")) != "save":
        editing.apply(form.editor, str(data.get("action")), attributes)
        return _page(request, shop, form)
    rule = _rule_to_save(form, shop)
    if form.errors:
        return _page(request, shop, form, 400)
    try:
        spec = SegmentSpec(
            kind, values["code"].strip(), values["name"],
            values["type"] or "dynamic",  # type: ignore[arg-type]  # SegmentSpec checks it
            values["status"] or "active",  # type: ignore[arg-type]
            values["description"], rule,
        )  # fmt: skip
        segment = shop.create_segment(spec)
    except (RuleError, ValidationError, AlreadyExistsError) as error:
        _refused(form, rule, error)
        return _page(request, shop, form, 400)
    return RedirectResponse(_after_save(segment, "created"), status_code=303)


def _after_save(segment: Segment, notice: str) -> str:
    """A new fixed segment has no members yet: go where they are added."""
    if segment.type is SegmentType.FIXED and segment.member_count == 0:
        return f"/segments/{segment.code}/members"
    return f"/segments/{segment.code}?notice={notice}"


FIX_RULE = "Fix the rule: the problems are shown at the rows or in the text."


def _rule_to_save(form: Form, shop: Shop) -> RuleSource | None:
    """The rule to save; every problem of the form found before saving goes into
    ``form.errors`` at once (the rule checked by the library, the blank fields, a
    code already taken), rather than one per attempt."""
    form.errors = {}
    for key, what in (("name", "a name"), ("code", "a code")):
        if not form.values.get(key, "").strip():
            form.errors[key] = f"Enter {what}."
    rule = editing.source(form.editor, form.attributes) if form.dynamic else None
    if form.dynamic and form.editor.failed:
        form.errors["rule"] = FIX_RULE
    elif form.dynamic and rule is None:
        form.errors["rule"] = "Add at least one condition: a dynamic segment needs a rule."
    elif form.dynamic and rule is not None and form.errors:
        try:
            shop.check_rule(form.kind, rule)
        except RuleError as error:
            editing.place(form.editor, rule, error)
            form.errors["rule"] = FIX_RULE
    code = form.values.get("code", "").strip()
    own = form.segment.code if form.segment else None
    if form.errors and code and code != own and _taken(shop, code):
        form.errors["code"] = f"A segment with the code {code!r} already exists."
    return rule


def _taken(shop: Shop, code: str) -> bool:
    try:
        shop.segment(code)
    except NotFoundError:
        return False
    return True


def _refused(form: Form, rule: RuleSource | None, error: Exception) -> None:
    """Put a refusal at the field it is about."""
    errors = form.errors if form.errors is not None else {}
    if isinstance(error, RuleError) and rule is not None:
        editing.place(form.editor, rule, error)
        errors["rule"] = FIX_RULE
    elif isinstance(error, AlreadyExistsError | InUseError):
        errors["code"] = str(error)
    elif isinstance(error, ValidationError) and error.field in FIELDS:
        errors[error.field] = error.message
    else:
        errors["form"] = str(error)
    form.errors = errors


# -- edit ---------------------------------------------------------------------------------


def _values_of(segment: Segment) -> dict[str, str]:
    return {
        "name": segment.name,
        "code": segment.code,
        "description": segment.description,
        "type": segment.type.value,
        "status": segment.status.value,
        "version": str(segment.version),
    }


async def edit_form(request: Request) -> Response:
    shop = shop_of(request)
    segment = shop.segment(request.path_params["code"])
    attributes, codes = _context(shop, segment.kind, segment.code)
    editor = editing.from_rule(segment.rule_json, attributes)
    form = Form(segment.kind, _values_of(segment), editor, attributes, codes, segment)
    return _page(request, shop, form)


async def edit(request: Request, data: FormData) -> Response:
    shop = shop_of(request)
    segment = shop.segment(request.path_params["code"])
    attributes, codes = _context(shop, segment.kind, segment.code)
    values = {k: str(data.get(k, "")) for k in (*FIELDS, "version", "force")}
    values["type"] = segment.type.value  # fixed at creation, whatever the form says
    editor = editing.from_form(_fields(data), attributes)
    form = Form(segment.kind, values, editor, attributes, codes, segment)
    if str(data.get("action", "save")) != "save":
        editing.apply(form.editor, str(data.get("action")), attributes)
        return _page(request, shop, form)
    return _save_edit(request, shop, form)


def _save_edit(request: Request, shop: Shop, form: Form) -> Response:
    assert form.segment is not None
    rule = _rule_to_save(form, shop)
    version = form.values["version"]
    if not version.isdigit():
        raise HTTPException(400, "The form lost the version it edits; reload the page.")
    if form.errors:
        return _page(request, shop, form, 400)
    try:
        change = SegmentEdit(
            form.values["code"].strip(), form.values["name"], form.values["description"],
            Status(form.values["status"]) if form.values["status"] in set(Status) else None,
            rule,
        )  # fmt: skip
        force = form.values.get("force") == "yes"
        saved = shop.edit_segment(
            form.segment.code, change, expected_version=int(version), force=force
        )
    except ConflictError:
        return _conflict(request, shop, form)
    except InUseError as error:
        if any("segment" in user for user in error.users):  # a rule refers to it: no force
            _refused(form, rule, error)
            return _page(request, shop, form, 400)
        form.in_use = shop.uses(form.segment.code)
        return _page(request, shop, form, 409)
    except (RuleError, ValidationError, AlreadyExistsError) as error:
        _refused(form, rule, error)
        return _page(request, shop, form, 400)
    return RedirectResponse(_after_save(saved, "saved"), status_code=303)


def _conflict(request: Request, shop: Shop, form: Form) -> Response:
    """Someone saved meanwhile: show theirs beside this form, which keeps the
    user's edit; saving again (from their version) overwrites theirs."""
    assert form.segment is not None
    current = shop.segment(form.segment.code)
    form.conflict, form.values["version"] = current, str(current.version)
    form.errors = {}
    return _page(request, shop, form, 409)


# -- the editor's fragments -------------------------------------------------------------------


def _fragment_form(shop: Shop, data: FormData) -> Form:
    """The form a fragment request describes; a saved segment decides its own kind."""
    original = str(data.get("original_code", ""))
    segment = shop.segment(original) if original else None
    word = str(data.get("kind", ""))
    if segment is None and word not in SEGMENTED_KINDS:
        raise HTTPException(400, "The form does not say which kind of segment it edits.")
    kind = segment.kind if segment else Kind(word)
    attributes, codes = _context(shop, kind, original or None)
    editor = editing.from_form(_fields(data), attributes)
    return Form(kind, {"type": "dynamic"}, editor, attributes, codes, segment)


async def editor_fragment(request: Request, data: FormData) -> Response:
    """A button or a changed attribute: the editor again, with its preview."""
    shop = shop_of(request)
    form = _fragment_form(shop, data)
    editing.apply(form.editor, str(data.get("action", "refresh")), form.attributes)
    code = form.segment.code if form.segment else None
    shown = preview(shop, form.kind, code, form.editor, form.attributes)
    context = _editor_context(form, shown, shop)
    return render.page(request, "segments/_editor.html", **context)


async def preview_fragment(request: Request, data: FormData) -> Response:
    """Typing: only the preview, and the errors at the rows or the text (out of band)."""
    shop = shop_of(request)
    form = _fragment_form(shop, data)
    code = form.segment.code if form.segment else None
    shown = preview(shop, form.kind, code, form.editor, form.attributes)
    context = _editor_context(form, shown, shop)
    return render.page(request, "segments/_preview_oob.html", **context)


routes: list[BaseRoute] = [
    post("/rule/editor", editor_fragment),
    post("/rule/preview", preview_fragment),
    Route("/segments/{code}/edit", edit_form),
    Route("/segments/{code}/duplicate", duplicate_form),
    post("/segments/{code}/edit", edit),
    Route("/{kinds}/segments/new", new_form),
    post("/{kinds}/segments/new", create),
]
