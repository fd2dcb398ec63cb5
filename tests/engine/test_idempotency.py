"""Idempotency keys: a keyed batch or import is applied once, and retries replay it.

The key is kept in the transaction of the write it guards, so these tests look
at what was written (entities' ``updated_at``, the event feed, import records)
rather than at the answers alone.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from segmentry.engine.idempotency import Done, Once, fingerprint
from segmentry.engine.imports import ImportStatus
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec
from segmentry.errors import (
    IdempotencyKeyInFlightError,
    IdempotencyKeyReusedError,
    ValidationError,
)
from segmentry.store.tables import idempotency_keys
from tests.engine.conftest import ManualClock

ITEMS = [{"id": "p1", "price": 120}, {"id": "p2", "price": 20}]


def _keyed(key: str, body: Any = ITEMS) -> Once:
    return Once(key, fingerprint("POST", "/v1/products/batch", repr(body)))


def _feed_length(shop: Shop) -> int:
    return len(shop.events(limit=1_000).items)


@pytest.fixture
def big(shop: Shop) -> Shop:
    shop.create_segment(SegmentSpec(kind="product", code="big", name="Big", rule="price > 100"))
    return shop


def test_a_retried_batch_is_written_once_and_replays_its_answer(
    big: Shop, clock: ManualClock
) -> None:
    first = big.upsert_many_once("product", ITEMS, _keyed("k1"))
    written_at = big.get("product", "p1").attributes["updated_at"]
    events = _feed_length(big)
    for _ in range(20):
        clock.advance(timedelta(minutes=1))
        assert big.upsert_many_once("product", ITEMS, _keyed("k1")) == Done(2, True)
    assert first == Done(2, False)
    assert big.get("product", "p1").attributes["updated_at"] == written_at
    assert _feed_length(big) == events == 1


def test_the_same_key_for_another_request_is_refused_and_writes_nothing(big: Shop) -> None:
    big.upsert_many_once("product", ITEMS, _keyed("k1"))
    other = [{"id": "p3", "price": 500}]
    with pytest.raises(IdempotencyKeyReusedError, match="another request"):
        big.upsert_many_once("product", other, _keyed("k1", other))
    assert [e.id for e in big.entities("product").items] == ["p1", "p2"]


def test_keys_are_per_tenant(segmentry: Segmentry, big: Shop) -> None:
    other = segmentry.shop(segmentry.create_tenant("other shop").tenant_id)
    big.upsert_many_once("product", ITEMS, _keyed("k1"))
    assert other.upsert_many_once("product", ITEMS, _keyed("k1")) == Done(2, False)
    assert len(other.entities("product").items) == 2


def test_a_failed_write_keeps_no_key_so_a_retry_runs_again(shop: Shop) -> None:
    items = [{"id": "c1", "tier": "gold"}]
    with pytest.raises(ValidationError, match="unknown attribute 'tier'"):
        shop.upsert_many_once("customer", items, _keyed("k1", items))
    shop.declare_attribute("customer", "tier", "string")
    assert shop.upsert_many_once("customer", items, _keyed("k1", items)) == Done(1, False)


def test_keys_are_kept_24_hours_then_forgotten(big: Shop, clock: ManualClock) -> None:
    big.upsert_many_once("product", ITEMS, _keyed("k1"))
    clock.advance(timedelta(hours=23, minutes=59))
    assert big.upsert_many_once("product", ITEMS, _keyed("k1")).replayed
    clock.advance(timedelta(minutes=2))
    assert not big.upsert_many_once("product", ITEMS, _keyed("k1")).replayed
    # The write that kept the key again purged the expired one (one row, the new one).
    with big.segmentry.database.connect() as conn:
        rows = conn.execute(
            sa.select(sa.func.count()).where(idempotency_keys.c.tenant_id == big.tenant_id)
        ).scalar()
    assert rows == 1


def test_concurrent_retries_write_once(big: Shop, database_url: str, clock: ManualClock) -> None:
    """Ten threads over two engines on one database (as two server processes would be)."""
    with Segmentry(database_url, clock=clock) as second:
        shops = [big, second.shop(big.tenant_id)]
        with ThreadPoolExecutor(max_workers=10) as pool:
            answers = list(
                pool.map(
                    lambda n: shops[n % 2].upsert_many_once("product", ITEMS, _keyed("k1")),
                    range(10),
                )
            )
    assert sorted(a.replayed for a in answers) == [False] + [True] * 9
    assert {a.value for a in answers} == {2}
    assert _feed_length(big) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "tab\there"])
def test_a_key_is_printable_ascii_of_at_most_255_characters(key: str) -> None:
    with pytest.raises(ValidationError, match="idempotency key"):
        Once(key, "f")


# -- imports ------------------------------------------------------------------------------


def _csv(*lines: str) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines) + "\n").encode())


CSV = ("id,price", "p1,120", "p2,lots", "p3,150")


def test_a_retried_import_replays_its_report_and_imports_nothing(
    big: Shop, clock: ManualClock
) -> None:
    once = Once("import-1", fingerprint(*CSV))
    first = big.import_file_once("product", _csv(*CSV), "csv", once)
    clock.advance(timedelta(minutes=5))
    again = big.import_file_once("product", _csv(*CSV), "csv", once)
    assert first.replayed is False
    assert again == Done(first.value, True)
    assert (first.value.applied, first.value.rejected) == (2, 1)
    assert [r.import_id for r in big.imports()] == [first.value.import_id]
    assert _feed_length(big) == 2  # p1 and p3 entered once


def test_an_import_key_reused_for_another_file_is_refused(big: Shop) -> None:
    big.import_file_once("product", _csv(*CSV), "csv", Once("import-1", fingerprint(*CSV)))
    with pytest.raises(IdempotencyKeyReusedError):
        big.import_file_once("product", _csv("id", "p9"), "csv", Once("import-1", "other"))
    assert len(big.imports()) == 1


class _Gate(io.RawIOBase):
    """A file that gives its header and first row (what an import reads before it
    records itself), then waits to be opened before giving the rest."""

    def __init__(self, lines: tuple[str, ...]) -> None:
        self.parts: Iterator[bytes] = iter(
            [("\n".join(lines[:2]) + "\n").encode(), ("\n".join(lines[2:]) + "\n").encode()]
        )
        self.opened = threading.Event()
        self.first_read = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.first_read:
            assert self.opened.wait(30)
        self.first_read = True
        data = next(self.parts, b"")
        buffer[: len(data)] = data
        return len(data)


def test_a_retry_while_the_import_runs_is_refused_then_replays_the_report(big: Shop) -> None:
    once = Once("import-1", fingerprint(*CSV))
    gate = _Gate(CSV)
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(big.import_file_once, "product", gate, "csv", once)
        import_id = _wait_for_running_import(big)
        with pytest.raises(IdempotencyKeyInFlightError) as refused:
            big.import_file_once("product", _csv(*CSV), "csv", once)
        gate.opened.set()
        first = running.result(timeout=30)
    assert refused.value.import_id == import_id == first.value.import_id
    assert first.value.status is ImportStatus.DONE
    assert big.import_file_once("product", _csv(*CSV), "csv", once) == Done(first.value, True)


def _wait_for_running_import(shop: Shop) -> str:
    for _ in range(1_000):
        running = [r for r in shop.imports() if r.status is ImportStatus.RUNNING]
        if running:
            return running[0].import_id
        threading.Event().wait(0.01)
    raise AssertionError("the import did not start")


def test_an_import_with_a_bad_header_keeps_no_key(big: Shop) -> None:
    once = Once("import-1", "f")
    with pytest.raises(ValidationError, match="not a product attribute"):
        big.import_file_once("product", _csv("id,prize", "p1,1"), "csv", once)
    assert big.import_file_once("product", _csv("id,price", "p1,1"), "csv", once).replayed is False
