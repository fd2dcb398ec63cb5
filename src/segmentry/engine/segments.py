"""Segments: create, edit, delete, restore; fixed members; uses.

Saving, editing or activating a segment evaluates it over every entity of its
kind before the call returns; the segments that refer to it are then brought
up to date for the entities whose membership changed.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from pyroaring import BitMap

from segmentry.engine import behaviour, evaluation
from segmentry.engine import webhooks as webhook_ops
from segmentry.engine.state import SegmentDef, TenantState
from segmentry.engine.transaction import Transaction
from segmentry.engine.types import Cause, SegmentEdit, SegmentSpec, SegmentType, Status, Use
from segmentry.errors import (
    AlreadyExistsError,
    ConflictError,
    InUseError,
    NotFoundError,
    UnknownIdsError,
    ValidationError,
)
from segmentry.model.schema import Kind
from segmentry.model.values import check_id, check_text
from segmentry.rules.load import CheckedRule, RuleSource, prepare
from segmentry.store import entities as entity_store
from segmentry.store import history as history_store
from segmentry.store import members as member_store
from segmentry.store import segments as segment_store
from segmentry.store import uses as use_store
from segmentry.store.segments import SegmentRow, VersionRow
from segmentry.store.uses import UseRow

CODE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
MAX_NAME = 200
MAX_DESCRIPTION = 2_000
MAX_FIXED_EDIT = 100_000


def get(state: TenantState, code: str) -> SegmentDef:
    segment = state.by_code(code)
    if segment is None:
        raise NotFoundError(f"no segment with code {code!r}")
    return segment


def check_code(code: object) -> str:
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        raise ValidationError(
            f"segment code {code!r} must start with a letter and hold only letters, digits, "
            "'_' and '-' (at most 64 characters)",
            field="code",
        )
    return code


def check_name(name: object) -> str:
    return check_text(name, field="name", max_length=MAX_NAME).strip()


def check_description(description: object) -> str:
    return check_text(
        description, field="description", max_length=MAX_DESCRIPTION, multiline=True, required=False
    )


def _rule(tx: Transaction, kind: Kind, source: RuleSource, code: str) -> CheckedRule:
    state = tx.state
    return prepare(
        source, state.schemas[kind], segments=state.catalog(), own_code=code, schemas=state.schemas
    )


def definition(row: SegmentRow) -> dict[str, Any]:
    """What a saved version keeps (a fixed segment's members are not part of it)."""
    return {
        "code": row.code,
        "name": row.name,
        "description": row.description,
        "kind": row.kind,
        "type": row.type,
        "status": row.status,
        "rule": row.rule,
    }


def _save_version(tx: Transaction, row: SegmentRow) -> None:
    version = VersionRow(row.version, tx.now_us, tx.by_key, definition(row))
    segment_store.insert_version(
        tx.conn, tenant_id=tx.tenant_id, seg_id=row.seg_id, version=version
    )


def create(tx: Transaction, spec: SegmentSpec) -> SegmentDef:
    code = check_code(spec.code)
    if tx.state.by_code(code) is not None:
        raise AlreadyExistsError(f"a segment with code {code!r} already exists")
    name, description = check_name(spec.name), check_description(spec.description)
    checked, seqs = _definition_parts(tx, spec, code)
    seg_id = tx.take("next_seg_id", 1)
    row = SegmentRow(
        seg_id,
        code,
        name,
        description,
        spec.kind.value,
        spec.type.value,
        spec.status.value,
        checked.json if checked else None,
        1,
        tx.now_us,
        tx.now_us,
    )
    segment_store.insert(tx.conn, tenant_id=tx.tenant_id, row=row)
    _save_version(tx, row)
    segment = SegmentDef(row, checked.tree if checked else None)
    tx.state.put(segment)
    member_store.add_fixed(tx.conn, tenant_id=tx.tenant_id, seg_id=seg_id, seqs=seqs, now=tx.now_us)
    cause = Cause.SEGMENT_CHANGED if segment.dynamic else Cause.MEMBERS_EDITED
    evaluation.reevaluate(tx, segment, cause)
    return segment


def _definition_parts(
    tx: Transaction, spec: SegmentSpec, code: str
) -> tuple[CheckedRule | None, BitMap]:
    if spec.type is SegmentType.DYNAMIC:
        if spec.members:
            raise ValidationError("a dynamic segment takes a rule, not members", field="members")
        if spec.rule is None:
            raise ValidationError("a dynamic segment needs a rule", field="rule")
        return _rule(tx, spec.kind, spec.rule, code), BitMap()
    if spec.rule is not None:
        raise ValidationError("a fixed segment takes members, not a rule", field="rule")
    return None, BitMap(resolve_ids(tx, spec.kind, spec.members).values())


def resolve_ids(tx: Transaction, kind: Kind, ids: list[str]) -> dict[str, int]:
    """The seqs of existing entities by id; every unknown id is reported and nothing changes."""
    if len(ids) > MAX_FIXED_EDIT:
        raise ValidationError(f"at most {MAX_FIXED_EDIT:,} ids at a time")
    for entity_id in ids:
        check_id(entity_id, what="member id")
    rows = entity_store.rows_by_ids(tx.conn, tenant_id=tx.tenant_id, kind=kind, ids=ids)
    unknown = [i for i in dict.fromkeys(ids) if i not in rows or not rows[i].alive]
    if unknown:
        shown = ", ".join(repr(i) for i in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        raise UnknownIdsError(f"{len(unknown)} unknown {kind} id(s): {shown}", ids=unknown)
    return {i: rows[i].seq for i in ids}


def edit(
    tx: Transaction,
    code: str,
    change: SegmentEdit,
    expected_version: int | None = None,
    *,
    force: bool = False,
) -> SegmentDef:
    """Apply ``change``; a new code is refused while the segment has uses (their
    consumers ask for it by its code) unless ``force``, as a delete is."""
    segment = get(tx.state, code)
    row = segment.row
    _check_version(segment, expected_version)
    new_row, checked = _edited_row(tx, segment, change, force=force)
    if definition(new_row) == definition(row):
        return segment
    new_row = replace(new_row, version=row.version + 1, updated_at=tx.now_us)
    segment_store.update(tx.conn, tenant_id=tx.tenant_id, row=new_row)
    _save_version(tx, new_row)
    updated = SegmentDef(new_row, checked.tree if checked else segment.tree)
    tx.state.put(updated)
    if new_row.code != row.code:
        tx.renamed(row.code, updated)
    if new_row.rule != row.rule or new_row.status != row.status:
        cause = Cause.SEGMENT_CHANGED if updated.dynamic else Cause.MEMBERS_EDITED
        changed = evaluation.reevaluate(tx, updated, cause)
        behaviour.propagate(tx, [updated.seg_id], changed, Cause.SEGMENT_CHANGED)
    return updated


def _edited_row(
    tx: Transaction, segment: SegmentDef, change: SegmentEdit, *, force: bool
) -> tuple[SegmentRow, CheckedRule | None]:
    row = segment.row
    code = row.code if change.code is None else _new_code(tx, segment, change.code, force)
    values: dict[str, Any] = {"code": code}
    if change.name is not None:
        values["name"] = check_name(change.name)
    if change.description is not None:
        values["description"] = check_description(change.description)
    if change.status is not None:
        values["status"] = Status(change.status).value
    checked = None
    if change.rule is not None:
        if not segment.dynamic:
            raise ValidationError(
                "a fixed segment has no rule; edit its members instead", field="rule"
            )
        checked = _rule(tx, segment.kind, change.rule, code)
        values["rule"] = checked.json
    return replace(row, **values), checked


def _new_code(tx: Transaction, segment: SegmentDef, code: str, force: bool) -> str:
    code = check_code(code)
    if code == segment.code:
        return code
    if tx.state.by_code(code) is not None:
        raise AlreadyExistsError(f"a segment with code {code!r} already exists")
    # Webhooks name the segment by its seg_id and follow a forced rename; their
    # receivers may filter on the code, hence the refusal.
    webhook_ops.check_segment_free(
        tx.conn,
        tenant_id=tx.tenant_id,
        seg_id=segment.seg_id,
        code=segment.code,
        action="rename",
        force=force,
    )
    referrers = tx.state.referrers(segment.code)
    if referrers:
        raise InUseError(
            f"segment {segment.code!r} cannot be renamed while other rules refer to it: "
            + ", ".join(s.code for s in referrers),
            users=[{"segment": s.code} for s in referrers],
        )
    uses = use_store.list_uses(tx.conn, tenant_id=tx.tenant_id, seg_id=segment.seg_id)
    if uses and not force:
        raise InUseError(
            f"segment {segment.code!r} has {len(uses)} use(s), which ask for it by its code; "
            "rename with force to override",
            users=_users(uses),
        )
    return code


def _check_version(segment: SegmentDef, expected: int | None) -> None:
    """Refuse a change based on a version someone else has changed since."""
    current = segment.row.version
    if expected is not None and expected != current:
        raise ConflictError(
            f"segment {segment.code!r} is at version {current}, not {expected}",
            current_version=current,
        )


def delete(
    tx: Transaction, code: str, force: bool = False, expected_version: int | None = None
) -> None:
    segment = get(tx.state, code)
    _check_version(segment, expected_version)
    referrers = tx.state.referrers(code)
    if referrers:
        raise InUseError(
            f"segment {code!r} is referred to by the rules of "
            + ", ".join(s.code for s in referrers),
            users=[{"segment": s.code} for s in referrers],
        )
    uses = use_store.list_uses(tx.conn, tenant_id=tx.tenant_id, seg_id=segment.seg_id)
    if uses and not force:
        raise InUseError(
            f"segment {code!r} has {len(uses)} use(s); delete with force to override",
            users=_users(uses),
        )
    webhook_ops.check_segment_free(
        tx.conn,
        tenant_id=tx.tenant_id,
        seg_id=segment.seg_id,
        code=code,
        action="delete",
        force=force,
    )
    webhook_ops.forget_segment(
        tx.conn, tenant_id=tx.tenant_id, seg_id=segment.seg_id, now=tx.now_us
    )
    tx.replace_members(segment, BitMap(), Cause.SEGMENT_CHANGED)
    tx.fold()  # the member log names the segment; its chunks are deleted next
    for drop in (
        segment_store.delete,
        member_store.drop_segment,
        use_store.drop_segment,
        history_store.drop_segment,
    ):
        drop(tx.conn, tenant_id=tx.tenant_id, seg_id=segment.seg_id)
    tx.dropped.add(segment.seg_id)
    tx.state.drop(segment.seg_id)


def _users(uses: list[UseRow]) -> list[dict[str, Any]]:
    """The uses of a segment as an InUseError lists them."""
    return [{"id": u.use_id, "type": u.type, "name": u.name, "url": u.url} for u in uses]


def restore(
    tx: Transaction,
    code: str,
    version: int,
    expected_version: int | None = None,
    *,
    force: bool = False,
) -> SegmentDef:
    segment = get(tx.state, code)
    saved = {
        v.version: v
        for v in segment_store.versions(tx.conn, tenant_id=tx.tenant_id, seg_id=segment.seg_id)
    }
    if version not in saved:
        raise NotFoundError(f"segment {code!r} has no version {version}")
    old = saved[version].definition
    change = SegmentEdit(
        code=old["code"],
        name=old["name"],
        description=old["description"],
        status=Status(old["status"]),
        rule=old["rule"],
    )
    return edit(tx, code, change, expected_version, force=force)


def edit_members(tx: Transaction, code: str, add: list[str], remove: list[str]) -> tuple[int, int]:
    """Add and remove members of a fixed segment; returns how many were added and removed."""
    segment = get(tx.state, code)
    if segment.dynamic:
        raise ValidationError(f"segment {code!r} is dynamic: its members follow its rule")
    overlap = set(add) & set(remove)
    if overlap:
        raise ValidationError(f"ids both added and removed: {', '.join(sorted(overlap)[:10])}")
    seqs = resolve_ids(tx, segment.kind, [*add, *remove])
    adding, removing = BitMap(seqs[i] for i in add), BitMap(seqs[i] for i in remove)
    listed = member_store.fixed_list(tx.conn, tenant_id=tx.tenant_id, seg_id=segment.seg_id)
    adding, removing = adding - listed, removing & listed
    member_store.add_fixed(
        tx.conn, tenant_id=tx.tenant_id, seg_id=segment.seg_id, seqs=adding, now=tx.now_us
    )
    member_store.remove_fixed(tx.conn, tenant_id=tx.tenant_id, seg_id=segment.seg_id, seqs=removing)
    if segment.active:
        for seq in adding:
            tx.set_member(segment, seq, True, Cause.MEMBERS_EDITED)
        for seq in removing:
            tx.set_member(segment, seq, False, Cause.MEMBERS_EDITED)
        behaviour.propagate(tx, [segment.seg_id], adding | removing, Cause.MEMBERS_EDITED)
    tx.counted.add(segment.seg_id)
    return len(adding), len(removing)


def put_use(tx: Transaction, code: str, use: Use) -> bool:
    segment = get(tx.state, code)
    row = UseRow(use.use_id, use.type.value, use.name, use.url, tx.now_us)
    return use_store.put(tx.conn, tenant_id=tx.tenant_id, seg_id=segment.seg_id, use=row)


def remove_use(tx: Transaction, code: str, use_id: str) -> None:
    segment = get(tx.state, code)
    if not use_store.remove(tx.conn, tenant_id=tx.tenant_id, seg_id=segment.seg_id, use_id=use_id):
        raise NotFoundError(f"segment {code!r} has no use {use_id!r}")
