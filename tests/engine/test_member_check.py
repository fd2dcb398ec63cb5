"""The member check answers from the kept state without the tenant's lock, and never
from a write that has not committed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from segmentry.engine.entities import Write, write
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec
from segmentry.errors import NotFoundError
from segmentry.model.schema import Kind
from tests.engine.conftest import ManualClock

HELD = 10.0  # seconds a write stays open; a check that waits for it fails the test


@pytest.fixture
def ios(shop: Shop) -> Shop:
    shop.upsert_many("customer", [{"id": "c1", "platform": "ios"}, {"id": "c2"}])
    shop.create_segment(
        SegmentSpec(kind="customer", code="ios", name="iOS", rule="platform = 'ios'")
    )
    return shop


class Background:
    """``call`` run in a thread of its own; its answer or exception once it is done."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.answer: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self.thread.start()

    def _run(self, call: Callable[[], Any]) -> None:
        try:
            self.answer = call()
        except Exception as exc:  # handed to the test, which asserts on it
            self.error = exc

    def done_within(self, seconds: float) -> bool:
        self.thread.join(seconds)
        return not self.thread.is_alive()


def _both(shop: Shop) -> tuple[object, object]:
    return shop.member("ios", "c1"), shop.member("ios", "c2")


def test_a_member_check_is_not_held_up_by_a_write_in_progress(
    segmentry: Segmentry, ios: Shop
) -> None:
    assert ios.member("ios", "c1") is not None  # the state is loaded
    opened, release = threading.Event(), threading.Event()

    def slow_write() -> None:
        with segmentry.transaction(ios.tenant_id):
            opened.set()
            release.wait(HELD)

    writer = Background(slow_write)
    assert opened.wait(5)
    try:
        checks = Background(lambda: _both(ios))
        assert checks.done_within(HELD / 2), "the member check waited for the write"
        assert checks.error is None
        member, non_member = checks.answer
        assert member is not None
        assert non_member is None
        with pytest.raises(NotFoundError):
            ios.member("nope", "c1")
    finally:
        release.set()
        assert writer.done_within(HELD)


def test_a_member_check_never_sees_a_write_that_does_not_commit(
    segmentry: Segmentry, ios: Shop
) -> None:
    assert ios.member("ios", "c1") is not None
    changed, release = threading.Event(), threading.Event()

    def failing_write() -> None:
        with segmentry.transaction(ios.tenant_id) as tx:
            write(tx, Kind.CUSTOMER, [Write("c1", {"platform": "android"})])
            write(tx, Kind.CUSTOMER, [Write("c2", {"platform": "ios"})])
            changed.set()
            release.wait(HELD)
            raise RuntimeError("the write fails before its commit")

    writer = Background(failing_write)
    assert changed.wait(5)
    checks = Background(lambda: _both(ios))
    release.set()
    assert writer.done_within(HELD)
    assert checks.done_within(HELD)
    assert isinstance(writer.error, RuntimeError)
    member, non_member = checks.answer
    assert member is not None  # as committed, not as half-written
    assert non_member is None
    assert _both(ios)[0] is not None
    assert _both(ios)[1] is None


def test_a_member_check_sees_a_commit_of_another_process(
    segmentry: Segmentry, database_url: str, clock: ManualClock, ios: Shop
) -> None:
    assert ios.member("ios", "c2") is None
    with Segmentry(database_url, clock=clock) as other:
        other.shop(ios.tenant_id).upsert("customer", "c2", {"platform": "ios"})
    found = ios.member("ios", "c2")
    assert found is not None
    assert found.since == segmentry.now()
