"""The library's types: what callers hand in (specs, edits) and get back (plain,
frozen values), and the enums both use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from segmentry.errors import ValidationError
from segmentry.model.schema import Kind, segmented
from segmentry.model.values import check_id, check_text
from segmentry.rules.load import RuleSource

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)


def choice(enum: type[E], value: object, field: str) -> E:
    """``value`` as a member of ``enum``, or a ValidationError listing the choices."""
    try:
        return enum(value)  # type: ignore[arg-type]  # validated right here
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ValidationError(
            f"{field} must be one of {allowed}, got {value!r}", field=field
        ) from None


class SegmentType(StrEnum):
    DYNAMIC = "dynamic"
    FIXED = "fixed"


class Status(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class Change(StrEnum):
    ENTERED = "entered"
    EXITED = "exited"


class Cause(StrEnum):
    ENTITY_CHANGED = "entity_changed"
    SEGMENT_CHANGED = "segment_changed"
    TIME_PASSED = "time_passed"
    MEMBERS_EDITED = "members_edited"
    ENTITY_DELETED = "entity_deleted"
    ORDER_CHANGED = "order_changed"


class UseType(StrEnum):
    WORKFLOW = "workflow"
    PROMOTION = "promotion"
    NOTIFICATION = "notification"
    RECOMMENDATION = "recommendation"
    OTHER = "other"
    WEBHOOK = "webhook"  # listed for the webhooks that name a segment; not registered


@dataclass(frozen=True, slots=True)
class Tenant:
    tenant_id: int
    name: str
    time_zone: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Entity:
    """A product or customer: ``attributes`` holds every stored attribute, id included."""

    kind: Kind
    id: str
    attributes: dict[str, Any]
    custom: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    """The keys of the tenant's custom attributes when the entity was read or written
    (the others are built in): enough to show it in the outside shape."""


@dataclass(frozen=True, slots=True)
class Segment:
    code: str
    name: str
    description: str
    kind: Kind
    type: SegmentType
    status: Status
    rule_text: str | None
    rule_json: dict[str, Any] | None
    version: int
    member_count: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    since: datetime


@dataclass(frozen=True, slots=True)
class Membership:
    """A segment an entity belongs to."""

    code: str
    since: datetime


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    segment: str
    kind: Kind
    entity_id: str
    change: Change
    cause: Cause
    at: datetime


@dataclass(frozen=True, slots=True)
class Use:
    use_id: str
    type: UseType
    name: str
    url: str | None = None

    def __post_init__(self) -> None:
        check_id(self.use_id, what="use id")
        object.__setattr__(self, "type", choice(UseType, self.type, "use type"))
        object.__setattr__(self, "name", check_text(self.name, field="use name", max_length=200))
        if self.url is not None:
            url = check_text(self.url, field="use url", max_length=2_000)
            if not url.startswith(("http://", "https://")):
                raise ValidationError("use url must start with http:// or https://", field="url")


@dataclass(frozen=True, slots=True)
class Version:
    version: int
    at: datetime
    by: str | None
    definition: dict[str, Any]


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    at: datetime
    member_count: int


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Preview:
    count: int
    sample: list[str]


@dataclass(frozen=True, slots=True)
class EditPreview:
    count: int
    entering: int
    leaving: int
    sample_entering: list[str]
    sample_leaving: list[str]


@dataclass(frozen=True, slots=True)
class Explanation:
    member: bool
    tree: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    """What a caller gives to create a segment."""

    kind: Kind
    code: str
    name: str
    type: SegmentType = SegmentType.DYNAMIC
    status: Status = Status.ACTIVE
    description: str = ""
    rule: RuleSource | None = None
    members: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", segmented(choice(Kind, self.kind, "kind")))
        object.__setattr__(self, "type", choice(SegmentType, self.type, "type"))
        object.__setattr__(self, "status", choice(Status, self.status, "status"))


@dataclass(frozen=True, slots=True)
class SegmentEdit:
    """What a caller changes in a segment; ``None`` leaves a field as it is."""

    code: str | None = None
    name: str | None = None
    description: str | None = None
    status: Status | None = None
    rule: RuleSource | None = None

    def __post_init__(self) -> None:
        if self.status is not None:
            object.__setattr__(self, "status", choice(Status, self.status, "status"))
