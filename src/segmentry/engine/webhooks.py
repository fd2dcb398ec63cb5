"""Webhooks of a tenant: create (the secret is shown once), read, edit, delete,
rotate the secret, replay, and the delivery attempts.

A webhook names segments by their seg_id, so a renamed segment keeps its
webhooks; it is a use of each segment it names (see ``segment_users``).
A new webhook starts at the end of the feed: it receives what happens after it
was created (``replay`` sends older events).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from segmentry.engine.delivery import signing, urls
from segmentry.engine.state import TenantState
from segmentry.engine.types import Change
from segmentry.errors import InUseError, NotFoundError, ValidationError
from segmentry.model.schema import SEGMENTED_KINDS
from segmentry.model.temporal import from_micros
from segmentry.model.values import check_text
from segmentry.store import webhooks as store
from segmentry.store.webhooks import DeliveryRow, WebhookRow

if TYPE_CHECKING:
    from segmentry.engine.segmentry import Segmentry

ROTATION_OVERLAP_US = 24 * 3_600 * 1_000_000
MAX_DESCRIPTION = 2_000
MAX_WEBHOOKS = 1_000
ALL = "*"

KIND_NAMES = [k.value for k in SEGMENTED_KINDS]
"""The kinds a webhook can follow: those that have segments."""


@dataclass(frozen=True, slots=True)
class WebhookSpec:
    url: str
    segments: list[str] = field(default_factory=lambda: [ALL])
    kinds: list[str] = field(default_factory=lambda: list(KIND_NAMES))
    changes: list[str] = field(default_factory=lambda: [c.value for c in Change])
    description: str = ""
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class WebhookEdit:
    """What a caller changes; ``None`` leaves a field as it is."""

    url: str | None = None
    segments: list[str] | None = None
    kinds: list[str] | None = None
    changes: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    url: str
    description: str
    segments: list[str]
    kinds: list[str]
    changes: list[str]
    enabled: bool
    disabled_reason: str | None
    position: int
    failures: int
    failing_since: datetime | None
    next_attempt_at: datetime | None
    last_success_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    at: datetime
    message_id: str
    first_event: int
    last_event: int
    events: int
    status: int | None
    duration_ms: float
    error: str | None


class Webhooks:
    """One tenant's webhooks. ``allow_private`` accepts URLs on private addresses."""

    def __init__(
        self, segmentry: Segmentry, tenant_id: int, *, allow_private: bool = False
    ) -> None:
        self.segmentry = segmentry
        self.tenant_id = tenant_id
        self.allow_private = allow_private

    def create(self, spec: WebhookSpec) -> tuple[Webhook, str]:
        """The new webhook and its secret, which is not shown again."""
        url = urls.check_url(spec.url, allow_private=self.allow_private)
        secret = signing.new_secret()
        with self.segmentry.transaction(self.tenant_id, bump=False) as tx:
            if len(store.list_all(tx.conn, tenant_id=self.tenant_id)) >= MAX_WEBHOOKS:
                raise ValidationError(f"a tenant has at most {MAX_WEBHOOKS:,} webhooks")
            row = WebhookRow(
                self.tenant_id,
                "wh_" + secrets.token_hex(8),
                url,
                _description(spec.description),
                _seg_ids(tx.state, spec.segments),
                _choices(spec.kinds, KIND_NAMES, "kinds"),
                _choices(spec.changes, [c.value for c in Change], "changes"),
                _flag(spec.enabled, "enabled"),
                None,
                secret,
                None,
                None,
                store.last_event_id(tx.conn, tenant_id=self.tenant_id),
                0,
                0,
                None,
                0,
                None,
                None,
                None,
                tx.now_us,
                tx.now_us,
            )
            store.insert(tx.conn, tenant_id=self.tenant_id, row=row)
            shown = _view(tx.state, row)
        return shown, secret

    def get(self, webhook_id: str) -> Webhook:
        with self.segmentry.view(self.tenant_id) as view:
            return _view(view.state, _row(view.conn, self.tenant_id, webhook_id))

    def all(self) -> list[Webhook]:
        with self.segmentry.view(self.tenant_id) as view:
            rows = store.list_all(view.conn, tenant_id=self.tenant_id)
            return [_view(view.state, r) for r in rows]

    def edit(self, webhook_id: str, change: WebhookEdit) -> Webhook:
        """Edit; enabling a disabled webhook resumes from its first undelivered event."""
        values: dict[str, Any] = {}
        if change.url is not None:
            values["url"] = urls.check_url(change.url, allow_private=self.allow_private)
        if change.description is not None:
            values["description"] = _description(change.description)
        with self.segmentry.transaction(self.tenant_id, bump=False) as tx:
            row = _row(tx.conn, self.tenant_id, webhook_id, lock=True)
            if change.segments is not None:
                values["segments"] = _seg_ids(tx.state, change.segments)
            if change.kinds is not None:
                values["kinds"] = _choices(change.kinds, KIND_NAMES, "kinds")
            if change.changes is not None:
                values["changes"] = _choices(change.changes, [c.value for c in Change], "changes")
            if change.enabled is not None:
                values.update(_enabling(row, _flag(change.enabled, "enabled")))
            values["updated_at"] = tx.now_us
            store.update(tx.conn, tenant_id=self.tenant_id, webhook_id=webhook_id, **values)
            return _view(tx.state, replace(row, **values))

    def delete(self, webhook_id: str) -> None:
        with self.segmentry.transaction(self.tenant_id, bump=False) as tx:
            if not store.delete(tx.conn, tenant_id=self.tenant_id, webhook_id=webhook_id):
                raise NotFoundError(f"no webhook {webhook_id!r}")

    def rotate_secret(self, webhook_id: str) -> str:
        """A new secret; the previous one signs too for 24 hours."""
        secret = signing.new_secret()
        with self.segmentry.transaction(self.tenant_id, bump=False) as tx:
            row = _row(tx.conn, self.tenant_id, webhook_id, lock=True)
            store.update(
                tx.conn,
                tenant_id=self.tenant_id,
                webhook_id=webhook_id,
                secret=secret,
                previous_secret=row.secret,
                previous_until=tx.now_us + ROTATION_OVERLAP_US,
                updated_at=tx.now_us,
            )
        return secret

    def replay(self, webhook_id: str, after: int) -> Webhook:
        """Send again every matching event after ``after`` (an event id, 0 for all). A
        replay never skips: a webhook not yet past ``after`` goes on from where it is."""
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValidationError("after must be an event id (0 or more)", field="after")
        with self.segmentry.transaction(self.tenant_id, bump=False) as tx:
            row = _row(tx.conn, self.tenant_id, webhook_id, lock=True)
            values: dict[str, Any] = {
                "position": min(after, row.position),
                "generation": row.generation + 1,
                "next_attempt_at": 0,
                "updated_at": tx.now_us,
            }
            store.update(tx.conn, tenant_id=self.tenant_id, webhook_id=webhook_id, **values)
            return _view(tx.state, replace(row, **values))

    def deliveries(self, webhook_id: str, *, limit: int = 100) -> list[Delivery]:
        """The attempts of the last 7 days, newest first."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1_000:
            raise ValidationError("limit must be between 1 and 1,000", field="limit")
        with self.segmentry.view(self.tenant_id) as view:
            _row(view.conn, self.tenant_id, webhook_id)
            # attempts are stamped by the machine's clock (the worker's), not the engine's
            since = time.time_ns() // 1_000 - store.KEPT_DELIVERIES_US
            rows = store.deliveries(
                view.conn, tenant_id=self.tenant_id, webhook_id=webhook_id, since=since, limit=limit
            )
        return [_delivery(d) for d in rows]


def _row(conn: Connection, tenant_id: int, webhook_id: str, lock: bool = False) -> WebhookRow:
    found = store.get(conn, tenant_id=tenant_id, webhook_id=webhook_id, lock=lock)
    if found is None:
        raise NotFoundError(f"no webhook {webhook_id!r}")
    return found


def _enabling(row: WebhookRow, enabled: bool) -> dict[str, Any]:
    if enabled == row.enabled:
        return {}
    if not enabled:
        return {"enabled": False, "disabled_reason": "disabled by a user"}
    return {
        "enabled": True,
        "disabled_reason": None,
        "failures": 0,
        "failing_since": None,
        "next_attempt_at": 0,
        "generation": row.generation + 1,
    }


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{what} must be true or false", field=what)
    return value


def _description(value: object) -> str:
    return check_text(
        value, field="description", max_length=MAX_DESCRIPTION, multiline=True, required=False
    )


def _choices(values: object, allowed: list[str], what: str) -> list[str]:
    if not isinstance(values, list) or not values:
        raise ValidationError(f"{what} must be a non-empty list of {allowed}", field=what)
    for value in values:
        if value not in allowed:
            raise ValidationError(
                f"{what}: {value!r} is not one of {', '.join(allowed)}", field=what
            )
    return [a for a in allowed if a in values]


def _seg_ids(state: TenantState, codes: object) -> list[int] | None:
    """The seg_ids of the codes, or None for ``["*"]`` (every segment)."""
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        raise ValidationError(
            'segments must be a non-empty list of segment codes, or ["*"] for all',
            field="segments",
        )
    if ALL in codes:
        if len(codes) > 1:
            raise ValidationError('"*" stands for every segment and comes alone', field="segments")
        return None
    unknown = [c for c in dict.fromkeys(codes) if state.by_code(c) is None]
    if unknown:
        raise ValidationError(
            "segments: no segment with code " + ", ".join(repr(c) for c in unknown[:10]),
            field="segments",
        )
    return sorted({seg.seg_id for c in codes if (seg := state.by_code(c)) is not None})


def _codes(state: TenantState, seg_ids: list[int] | None) -> list[str]:
    if seg_ids is None:
        return [ALL]
    return [seg.code for s in seg_ids if (seg := state.segments.get(s)) is not None]


def _moment(micros: int | None) -> datetime | None:
    return from_micros(micros) if micros else None


def _view(state: TenantState, row: WebhookRow) -> Webhook:
    return Webhook(
        row.webhook_id,
        row.url,
        row.description,
        _codes(state, row.segments),
        list(row.kinds),
        list(row.changes),
        row.enabled,
        row.disabled_reason,
        row.position,
        row.failures,
        _moment(row.failing_since),
        _moment(row.next_attempt_at),
        _moment(row.last_success_at),
        from_micros(row.created_at),
        from_micros(row.updated_at),
    )


def _delivery(row: DeliveryRow) -> Delivery:
    return Delivery(
        row.delivery_id,
        from_micros(row.at),
        row.message_id,
        row.first_event,
        row.last_event,
        row.events,
        row.status,
        row.duration_us / 1_000,
        row.error,
    )


# -- a webhook is a use of each segment it names ----------------------------------------------


def segment_users(conn: Connection, *, tenant_id: int, seg_id: int) -> list[dict[str, object]]:
    """The webhooks naming the segment, as the users an in-use refusal lists."""
    return [
        {"id": f"webhook:{w.webhook_id}", "type": "webhook", "name": _label(w), "url": w.url}
        for w in store.naming(conn, tenant_id=tenant_id, seg_id=seg_id)
    ]


def _label(row: WebhookRow) -> str:
    return row.description.splitlines()[0][:200] if row.description else f"webhook to {row.url}"


def check_segment_free(
    conn: Connection, *, tenant_id: int, seg_id: int, code: str, action: str, force: bool
) -> list[WebhookRow]:
    """Refuse to delete or rename a segment that webhooks name, unless forced; the
    webhooks that name it."""
    naming = store.naming(conn, tenant_id=tenant_id, seg_id=seg_id)
    if naming and not force:
        raise InUseError(
            f"segment {code!r} is named by {len(naming)} webhook(s); {action} with force "
            "to override",
            users=segment_users(conn, tenant_id=tenant_id, seg_id=seg_id),
        )
    return naming


def forget_segment(conn: Connection, *, tenant_id: int, seg_id: int, now: int) -> None:
    """A forced delete: the segment leaves every webhook that named it; a webhook left
    with no segment is disabled, saying why, rather than silently sending nothing."""
    for row in store.naming(conn, tenant_id=tenant_id, seg_id=seg_id):
        left = [s for s in row.segments or [] if s != seg_id]
        values: dict[str, Any] = {"segments": left, "updated_at": now}
        if not left:
            values.update(enabled=False, disabled_reason="every segment it named was deleted")
        store.update(conn, tenant_id=tenant_id, webhook_id=row.webhook_id, **values)
