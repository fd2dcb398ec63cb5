"""Delivered batches settled together: one statement for many webhooks still writes only
those whose lease and generation held, and says which, on both back ends."""

from __future__ import annotations

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.webhooks import Webhooks, WebhookSpec
from segmentry.store import webhooks as store
from segmentry.store.database import read_transaction, write_transaction
from segmentry.store.webhooks import DeliveryRow, WebhookRow
from tests.api.conftest import new_tenant

OWNER, OTHER = "w_ours", "w_theirs"


def _rows(segmentry: Segmentry, tenant_id: int) -> list[WebhookRow]:
    with read_transaction(segmentry.database) as conn:
        return store.list_all(conn, tenant_id=tenant_id)


def _leased(segmentry: Segmentry, tenant_id: int, count: int) -> list[WebhookRow]:
    hooks = Webhooks(segmentry, tenant_id, allow_private=True)
    for n in range(count):
        hooks.create(WebhookSpec(url=f"http://127.0.0.1:9/hook/{n}"))
    with write_transaction(segmentry.database) as conn:
        for row in store.list_all(conn, tenant_id=tenant_id):
            store.update(
                conn,
                tenant_id=tenant_id,
                webhook_id=row.webhook_id,
                lease_owner=OWNER,
                lease_until=2**60,
            )
    return _rows(segmentry, tenant_id)


def _success(row: WebhookRow, position: int) -> store.Success:
    return store.Success(row.webhook_id, row.generation, (position, 0, None, 7, 0, 2**60, 7))


def test_only_the_webhooks_still_held_are_settled(segmentry: Segmentry) -> None:
    tenant_id, _ = new_tenant(segmentry, "settling")
    rows = _leased(segmentry, tenant_id, 4)
    with write_transaction(segmentry.database) as conn:
        store.update(conn, tenant_id=tenant_id, webhook_id=rows[1].webhook_id, lease_owner=OTHER)
        store.update(conn, tenant_id=tenant_id, webhook_id=rows[2].webhook_id, generation=5)
    with write_transaction(segmentry.database) as conn:
        kept = store.settle_successes(
            conn,
            tenant_id=tenant_id,
            owner=OWNER,
            successes=[_success(row, 40 + n) for n, row in enumerate(rows)],
        )
    assert kept == [True, False, False, True]
    after = {row.webhook_id: row for row in _rows(segmentry, tenant_id)}
    positions = [after[row.webhook_id].position for row in rows]
    assert positions == [40, rows[1].position, rows[2].position, 43]
    assert after[rows[0].webhook_id].last_success_at == 7
    assert after[rows[1].webhook_id].last_success_at is None


def test_all_held_are_settled_in_one_go(segmentry: Segmentry) -> None:
    tenant_id, _ = new_tenant(segmentry, "all held")
    rows = _leased(segmentry, tenant_id, 3)
    with write_transaction(segmentry.database) as conn:
        kept = store.settle_successes(
            conn, tenant_id=tenant_id, owner=OWNER, successes=[_success(r, 9) for r in rows]
        )
        assert store.settle_successes(conn, tenant_id=tenant_id, owner=OWNER, successes=[]) == []
    assert kept == [True, True, True]
    assert [r.position for r in _rows(segmentry, tenant_id)] == [9, 9, 9]


def test_attempts_of_several_webhooks_are_recorded_together(segmentry: Segmentry) -> None:
    tenant_id, _ = new_tenant(segmentry, "attempts")
    rows = _leased(segmentry, tenant_id, 2)
    attempts = [
        (row.webhook_id, DeliveryRow(f"d_{n}", 100 + n, f"msg_{n}", 1, 2, 2, 204, 50, None))
        for n, row in enumerate(rows)
    ]
    with write_transaction(segmentry.database) as conn:
        store.record_deliveries(conn, tenant_id=tenant_id, attempts=attempts)
    with read_transaction(segmentry.database) as conn:
        for webhook_id, attempt in attempts:
            found = store.deliveries(
                conn, tenant_id=tenant_id, webhook_id=webhook_id, since=0, limit=10
            )
            assert found == [attempt]
