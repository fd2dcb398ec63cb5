"""Recording finished attempts and what they mean for their webhooks: the position
moved past a delivered batch, or a failure counted and the next attempt put off
(or the webhook disabled once it failed for the retry window)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from segmentry.engine.delivery import feed
from segmentry.engine.delivery.sender import Outcome
from segmentry.store import webhooks as store
from segmentry.store.webhooks import DeliveryRow, WebhookRow

if TYPE_CHECKING:
    from segmentry.engine.delivery.worker import DeliverySettings


@dataclass(frozen=True, slots=True)
class Settlement:
    """A finished attempt, to be recorded with what it means for its webhook."""

    row: WebhookRow
    through: int
    attempt: DeliveryRow
    outcome: Outcome


def retry_delay(failures: int, settings: DeliverySettings) -> float:
    """Exponential backoff with jitter: half the doubled delay, plus up to as much again."""
    delay = min(settings.retry_cap, math.ldexp(settings.retry_base, min(failures - 1, 30)))
    jitter: float = random.uniform(0, delay / 2)  # spreads retries; not a secret
    return delay / 2 + jitter


def write(
    conn: Connection,
    group: list[Settlement],
    *,
    owner: str,
    settings: DeliverySettings,
    now: int,
) -> list[bool]:
    """Each attempt recorded and its outcome written, in ``conn``'s transaction: a
    tenant's attempts in one statement, and its delivered batches in one more (failures,
    rarer and each with values of its own, one at a time). Whether each webhook was
    still held by ``owner``, in order."""
    lease_until = now + int(settings.lease * 1e6)
    kept: dict[int, bool] = {}
    by_tenant: dict[int, list[int]] = {}
    for n, s in enumerate(group):
        by_tenant.setdefault(s.row.tenant_id, []).append(n)
    for tenant_id, members in by_tenant.items():
        store.record_deliveries(
            conn,
            tenant_id=tenant_id,
            attempts=[(group[n].row.webhook_id, group[n].attempt) for n in members],
        )
        done = [n for n in members if group[n].outcome.ok]
        successes = [_success(group[n], now, lease_until) for n in done]
        settled = store.settle_successes(
            conn, tenant_id=tenant_id, owner=owner, successes=successes
        )
        kept.update(zip(done, settled, strict=True))
        for n in members:
            if n not in kept:
                row = group[n].row
                kept[n] = store.settle(
                    conn,
                    tenant_id=row.tenant_id,
                    webhook_id=row.webhook_id,
                    owner=owner,
                    generation=row.generation,
                    lease_until=lease_until,
                    updated_at=now,
                    **_failed(group[n], settings, now),
                )
    return [kept[n] for n in range(len(group))]


def _success(settlement: Settlement, now: int, lease_until: int) -> store.Success:
    row = settlement.row
    values = (settlement.through, 0, None, now, 0, lease_until, now)
    return store.Success(row.webhook_id, row.generation, values)


def _failed(settlement: Settlement, settings: DeliverySettings, now: int) -> dict[str, object]:
    row, error = settlement.row, settlement.outcome.error
    failures = row.failures + 1
    since = row.failing_since or settlement.attempt.at
    values: dict[str, object] = {"failures": failures, "failing_since": since}
    if now - since >= settings.retry_window * 1e6:
        hours = settings.retry_window / 3_600
        values["enabled"] = False
        values["disabled_reason"] = (
            f"failed for {hours:g} hours since {feed.iso(since)}; last error: {error}"
        )
    else:
        delay = retry_delay(failures, settings)
        values["next_attempt_at"] = now + int(delay * 1e6)
    return values
