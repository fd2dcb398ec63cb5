"""Webhooks, their delivery attempts and the leases that keep one webhook's
deliveries in one process at a time.

A lease is a claim on a webhook until a moment: a worker sets ``lease_owner``
and ``lease_until`` in a short transaction and delivers outside it. On
PostgreSQL the candidates are read with ``FOR UPDATE SKIP LOCKED``, so two
workers claiming at once pass each other instead of queueing; on SQLite the
claim runs under the database's write lock (``BEGIN IMMEDIATE``) and the
conditional ``UPDATE`` alone decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from segmentry.store.tables import nats_positions, tenants, webhook_deliveries, webhooks

KEPT_DELIVERIES_US = 7 * 24 * 3_600 * 1_000_000


@dataclass(frozen=True, slots=True)
class WebhookRow:
    tenant_id: int
    webhook_id: str
    url: str
    description: str
    segments: list[int] | None  # seg_ids; None: every segment
    kinds: list[str]
    changes: list[str]
    enabled: bool
    disabled_reason: str | None
    secret: str
    previous_secret: str | None
    previous_until: int | None
    position: int
    generation: int
    failures: int
    failing_since: int | None
    next_attempt_at: int
    last_success_at: int | None
    lease_owner: str | None
    lease_until: int | None
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    delivery_id: str
    at: int
    message_id: str
    first_event: int
    last_event: int
    events: int
    status: int | None
    duration_us: int
    error: str | None


COLUMNS = [webhooks.c[name] for name in WebhookRow.__slots__]


def _key(tenant_id: int, webhook_id: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (webhooks.c.tenant_id == tenant_id, webhooks.c.webhook_id == webhook_id)


def insert(conn: Connection, *, tenant_id: int, row: WebhookRow) -> None:
    values = {name: getattr(row, name) for name in WebhookRow.__slots__}
    conn.execute(webhooks.insert().values(**{**values, "tenant_id": tenant_id}))


_GET = sa.select(*COLUMNS).where(
    webhooks.c.tenant_id == sa.bindparam("k_tenant"),
    webhooks.c.webhook_id == sa.bindparam("k_webhook"),
)
_GET_LOCKED = _GET.with_for_update()


def get(
    conn: Connection, *, tenant_id: int, webhook_id: str, lock: bool = False
) -> WebhookRow | None:
    query = _GET_LOCKED if lock and conn.dialect.name == "postgresql" else _GET
    found = conn.execute(query, {"k_tenant": tenant_id, "k_webhook": webhook_id}).first()
    return WebhookRow(*found) if found is not None else None


def list_all(conn: Connection, *, tenant_id: int) -> list[WebhookRow]:
    query = (
        sa.select(*COLUMNS)
        .where(webhooks.c.tenant_id == tenant_id)
        .order_by(webhooks.c.created_at, webhooks.c.webhook_id)
    )
    return [WebhookRow(*r) for r in conn.execute(query)]


def update(conn: Connection, *, tenant_id: int, webhook_id: str, **values: Any) -> bool:
    changed = conn.execute(
        webhooks.update().where(*_key(tenant_id, webhook_id)).values(**values)
    ).rowcount
    return changed == 1


def delete(conn: Connection, *, tenant_id: int, webhook_id: str) -> bool:
    conn.execute(
        webhook_deliveries.delete().where(
            webhook_deliveries.c.tenant_id == tenant_id,
            webhook_deliveries.c.webhook_id == webhook_id,
        )
    )
    return conn.execute(webhooks.delete().where(*_key(tenant_id, webhook_id))).rowcount == 1


def naming(conn: Connection, *, tenant_id: int, seg_id: int) -> list[WebhookRow]:
    """The webhooks that name the segment (not those that take every segment)."""
    return [w for w in list_all(conn, tenant_id=tenant_id) if w.segments and seg_id in w.segments]


# -- leases --------------------------------------------------------------------------------


def _due(now: int) -> sa.Select[int, str]:
    return sa.select(webhooks.c.tenant_id, webhooks.c.webhook_id).where(
        webhooks.c.enabled.is_(True),
        webhooks.c.next_attempt_at <= now,
        sa.or_(webhooks.c.lease_until.is_(None), webhooks.c.lease_until < now),
        webhooks.c.position
        < sa.select(tenants.c.next_event_id - 1)
        .where(tenants.c.tenant_id == webhooks.c.tenant_id)
        .scalar_subquery(),
    )


def due(conn: Connection, *, now: int, limit: int, skip: set[tuple[int, str]]) -> bool:
    """Whether some webhook could be claimed now (a read, without locks)."""
    found = conn.execute(_due(now).limit(limit + len(skip))).all()
    return any((t, w) not in skip for t, w in found)


def claim(
    conn: Connection, *, owner: str, now: int, until: int, limit: int, skip: set[tuple[int, str]]
) -> list[WebhookRow]:
    """Lease up to ``limit`` enabled webhooks of any tenant that are due and have events
    past their position, and whose lease is free or ran out. Run in a write transaction."""
    due = _due(now).order_by(webhooks.c.next_attempt_at).limit(limit + len(skip))
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True, of=webhooks)
    claimed: list[WebhookRow] = []
    for tenant_id, webhook_id in conn.execute(due).all():
        if (tenant_id, webhook_id) in skip or len(claimed) == limit:
            continue
        won = conn.execute(
            webhooks.update()
            .where(
                *_key(tenant_id, webhook_id),
                sa.or_(webhooks.c.lease_until.is_(None), webhooks.c.lease_until < now),
            )
            .values(lease_owner=owner, lease_until=until)
        ).rowcount
        if won:
            row = get(conn, tenant_id=tenant_id, webhook_id=webhook_id)
            assert row is not None
            claimed.append(row)
    return claimed


def held(owner: str) -> sa.ColumnElement[bool]:
    """The condition every write of a lease holder carries: if its lease was taken over,
    the write changes nothing and the holder stops."""
    return webhooks.c.lease_owner == owner


def renew(conn: Connection, *, tenant_id: int, webhook_id: str, owner: str, until: int) -> bool:
    done = conn.execute(
        webhooks.update().where(*_key(tenant_id, webhook_id), held(owner)).values(lease_until=until)
    ).rowcount
    return done == 1


def release(conn: Connection, *, tenant_id: int, webhook_id: str, owner: str) -> None:
    conn.execute(
        webhooks.update()
        .where(*_key(tenant_id, webhook_id), held(owner))
        .values(lease_owner=None, lease_until=None)
    )


def settle(
    conn: Connection,
    *,
    tenant_id: int,
    webhook_id: str,
    owner: str,
    generation: int,
    **values: Any,
) -> bool:
    """Write the outcome of a delivery, only while the lease is still ours and no replay
    or re-enable came in between (their position wins)."""
    done = conn.execute(
        webhooks.update()
        .where(*_key(tenant_id, webhook_id), held(owner), webhooks.c.generation == generation)
        .values(**values)
    ).rowcount
    return done == 1


SUCCESS_COLUMNS = (
    "position",
    "failures",
    "failing_since",
    "last_success_at",
    "next_attempt_at",
    "lease_until",
    "updated_at",
)
_SETTLED = (
    webhooks.update()
    .where(
        webhooks.c.tenant_id == sa.bindparam("k_tenant"),
        webhooks.c.webhook_id == sa.bindparam("k_webhook"),
        webhooks.c.lease_owner == sa.bindparam("k_owner"),
        webhooks.c.generation == sa.bindparam("k_generation"),
    )
    .values({name: sa.bindparam("v_" + name) for name in SUCCESS_COLUMNS})
)


@dataclass(frozen=True, slots=True)
class Success:
    """A delivered batch to settle: the webhook, the lease and generation it was sent
    under, and its new ``SUCCESS_COLUMNS`` values, in that order."""

    webhook_id: str
    generation: int
    values: tuple[object, ...]


def settle_successes(
    conn: Connection, *, tenant_id: int, owner: str, successes: list[Success]
) -> list[bool]:
    """``settle`` of many delivered batches of one tenant's webhooks in one statement
    executed for each; which ones still held their lease, in order. When some did not,
    each is settled again alone to learn which (the same values: those that were
    written change nothing)."""
    if not successes:
        return []
    params = [
        {
            "k_tenant": tenant_id,
            "k_webhook": s.webhook_id,
            "k_owner": owner,
            "k_generation": s.generation,
            **{"v_" + name: value for name, value in zip(SUCCESS_COLUMNS, s.values, strict=True)},
        }
        for s in successes
    ]
    many = len(params) > 1 and conn.dialect.supports_sane_multi_rowcount
    if many and conn.execute(_SETTLED, params).rowcount == len(params):
        return [True] * len(params)
    return [conn.execute(_SETTLED, p).rowcount == 1 for p in params]


# -- delivery attempts ---------------------------------------------------------------------


def record_delivery(conn: Connection, *, tenant_id: int, webhook_id: str, row: DeliveryRow) -> None:
    record_deliveries(conn, tenant_id=tenant_id, attempts=[(webhook_id, row)])


def record_deliveries(
    conn: Connection, *, tenant_id: int, attempts: list[tuple[str, DeliveryRow]]
) -> None:
    """Attempts of one tenant's webhooks, (webhook id, attempt), in one statement."""
    if attempts:
        conn.execute(
            webhook_deliveries.insert(),
            [
                {
                    "tenant_id": tenant_id,
                    "webhook_id": webhook_id,
                    **{name: getattr(row, name) for name in DeliveryRow.__slots__},
                }
                for webhook_id, row in attempts
            ],
        )


def prune_deliveries(conn: Connection, *, tenant_id: int, webhook_id: str, now: int) -> None:
    """Forget the attempts older than the week that is kept."""
    conn.execute(
        webhook_deliveries.delete().where(
            webhook_deliveries.c.tenant_id == tenant_id,
            webhook_deliveries.c.webhook_id == webhook_id,
            webhook_deliveries.c.at < now - KEPT_DELIVERIES_US,
        )
    )


def deliveries(
    conn: Connection, *, tenant_id: int, webhook_id: str, since: int, limit: int
) -> list[DeliveryRow]:
    """The attempts made since ``since``, newest first."""
    query = (
        sa.select(*[webhook_deliveries.c[name] for name in DeliveryRow.__slots__])
        .where(
            webhook_deliveries.c.tenant_id == tenant_id,
            webhook_deliveries.c.webhook_id == webhook_id,
            webhook_deliveries.c.at >= since,
        )
        .order_by(webhook_deliveries.c.at.desc(), webhook_deliveries.c.delivery_id.desc())
        .limit(limit)
    )
    return [DeliveryRow(*r) for r in conn.execute(query)]


# -- the NATS publisher's positions --------------------------------------------------------


def nats_position(conn: Connection, *, tenant_id: int, stream: str) -> int:
    found = conn.execute(
        sa.select(nats_positions.c.position).where(
            nats_positions.c.tenant_id == tenant_id, nats_positions.c.stream == stream
        )
    ).scalar()
    return int(found) if found is not None else 0


def set_nats_position(
    conn: Connection, *, tenant_id: int, stream: str, position: int, now: int
) -> None:
    done = conn.execute(
        nats_positions.update()
        .where(nats_positions.c.tenant_id == tenant_id, nats_positions.c.stream == stream)
        .values(position=position, updated_at=now)
    ).rowcount
    if not done:
        conn.execute(
            nats_positions.insert().values(
                tenant_id=tenant_id, stream=stream, position=position, updated_at=now
            )
        )


def last_event_id(conn: Connection, *, tenant_id: int) -> int:
    """The tenant's last event id (0 before its first)."""
    found = conn.execute(
        sa.select(tenants.c.next_event_id - 1).where(tenants.c.tenant_id == tenant_id)
    ).scalar()
    return int(found or 0)


def last_event_ids(conn: Connection) -> dict[int, int]:
    """Each tenant's last event id (0 before its first)."""
    rows = conn.execute(sa.select(tenants.c.tenant_id, tenants.c.next_event_id - 1))
    return {int(t): int(last) for t, last in rows}
