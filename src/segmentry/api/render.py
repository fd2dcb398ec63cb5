"""Library values as API bodies, and API bodies as library values: shapes only."""

from __future__ import annotations

from typing import Any

from segmentry.api.bodies import (
    AttributeOut,
    EventOut,
    ImportOut,
    LineErrorOut,
    RuleOut,
    SegmentOut,
    SegmentPatch,
    UseOut,
    VersionOut,
)
from segmentry.api.entity_bodies import CustomerOut, EntityOut, ProductOut
from segmentry.engine.imports import ImportReport
from segmentry.engine.types import Entity, Event, Segment, SegmentEdit, Use, Version
from segmentry.errors import ValidationError
from segmentry.model.nesting import nest_custom
from segmentry.model.schema import Attribute, Kind

OUT_MODELS: dict[Kind, type[EntityOut]] = {Kind.PRODUCT: ProductOut, Kind.CUSTOMER: CustomerOut}


def entity(found: Entity) -> EntityOut:
    return OUT_MODELS[found.kind].model_validate(nest_custom(found.custom, found.attributes))


def attribute(kind: Kind, found: Attribute) -> AttributeOut:
    return AttributeOut(
        kind=kind,
        key=found.key,
        label=found.label,
        type=found.type,
        values=list(found.values),
        builtin=found.builtin,
        derived=found.derived,
    )


def segment(found: Segment) -> SegmentOut:
    rule = None
    if found.rule_text is not None and found.rule_json is not None:
        rule = RuleOut.model_validate({"text": found.rule_text, "json": found.rule_json})
    return SegmentOut(
        kind=found.kind,
        code=found.code,
        name=found.name,
        description=found.description,
        type=found.type,
        status=found.status,
        rule=rule,
        member_count=found.member_count,
        version=found.version,
        created_at=found.created_at,
        updated_at=found.updated_at,
    )


def segment_edit(patch: SegmentPatch) -> SegmentEdit:
    """A merge patch as the library's edit: ``null`` clears the description; the other
    fields cannot be removed."""
    given = patch.model_fields_set
    for name in ("code", "name", "status", "rule"):
        if name in given and getattr(patch, name) is None:
            raise ValidationError(f"{name} cannot be removed (null); leave it out to keep it")
    description = patch.description
    if "description" in given and description is None:
        description = ""
    return SegmentEdit(
        code=patch.code,
        name=patch.name,
        description=description,
        status=patch.status,
        rule=patch.rule,
    )


def use(found: Use) -> UseOut:
    return UseOut(id=found.use_id, type=found.type, name=found.name, url=found.url)


def event(found: Event) -> EventOut:
    return EventOut(
        id=found.id,
        segment=found.segment,
        kind=found.kind,
        entity_id=found.entity_id,
        change=found.change,
        cause=found.cause,
        at=found.at,
    )


def version(found: Version) -> VersionOut:
    return VersionOut(version=found.version, at=found.at, by=found.by, definition=found.definition)


def import_report(report: ImportReport) -> ImportOut:
    return ImportOut(
        id=report.import_id,
        kind=report.kind,
        format=report.format,
        status=report.status,
        lines=report.lines,
        applied=report.applied,
        rejected=report.rejected,
        last_line=report.last_line,
        applied_lines=report.applied_lines,
        errors=[LineErrorOut(line=e.line, message=e.message) for e in report.errors],
        error=report.error,
        started_at=report.started_at,
        finished_at=report.finished_at,
    )


def import_json(report: ImportReport) -> dict[str, Any]:
    return import_report(report).model_dump(mode="json")
