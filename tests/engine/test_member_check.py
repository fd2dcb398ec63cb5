"""The member check answers from the kept state without the tenant's lock, and never
from a write that has not committed."""

from __future__ import annotations

import threading

import pytest

from segmentry.engine.entities import Write, write
from segmentry.engine.model import SegmentSpec
from segmentry.engine.service import Segmentry
from segmentry.engine.shop import Shop
from segmentry.errors import NotFoundError
from segmentry.model.schema import Kind

HELD = 10.0  # seconds a write stays open; a check that waits for it fails the test


@pytest.fixture
def ios(shop: Shop) -> Shop:
    shop.upsert_many("customer", [{"id": "c1", "platform": "ios"}, {"id": "c2"}])
    shop.create_segment(
        SegmentSpec(kind="customer", code="ios", name="iOS", rule="platform = 'ios'")
    )
    return shop


def _in_thread(call: object) -> list[object]:
    """Run ``call`` in a thread; its answer (or exception) lands in the returned list."""
    answers: list[object] = []

    def run() -> None:
        try:
            answers.append(call())  # type: ignore[operator]
        except Exception as exc:  # handed to the test, which asserts on it
            answers.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    answers.append(thread)
    return answers


def test_a_member_check_is_not_held_up_by_a_write_in_progress(
    service: Segmentry, ios: Shop
) -> None:
    assert ios.member("ios", "c1") is not None  # the state is loaded
    opened, release = threading.Event(), threading.Event()

    def slow_write() -> None:
        with service.transaction(ios.tenant_id):
            opened.set()
            release.wait(HELD)

    writer = threading.Thread(target=slow_write, daemon=True)
    writer.start()
    assert opened.wait(5)
    try:
        checks = _in_thread(lambda: (ios.member("ios", "c1"), ios.member("ios", "c2")))
        thread = checks.pop(0)
        assert isinstance(thread, threading.Thread)
        thread.join(HELD / 2)
        assert not thread.is_alive(), "the member check waited for the write"
        (answer,) = checks
        assert isinstance(answer, tuple)
        member, non_member = answer
        assert member is not None
        assert non_member is None
        with pytest.raises(NotFoundError):
            ios.member("nope", "c1")
    finally:
        release.set()
        writer.join(HELD)


def test_a_member_check_never_sees_a_write_that_does_not_commit(
    service: Segmentry, ios: Shop
) -> None:
    assert ios.member("ios", "c1") is not None
    changed, release = threading.Event(), threading.Event()

    def failing_write() -> None:
        with service.transaction(ios.tenant_id) as tx:
            write(tx, Kind.CUSTOMER, [Write("c1", {"platform": "android"})])
            write(tx, Kind.CUSTOMER, [Write("c2", {"platform": "ios"})])
            changed.set()
            release.wait(HELD)
            raise RuntimeError("the write fails before its commit")

    writer = _in_thread(failing_write)
    assert changed.wait(5)
    checks = _in_thread(lambda: (ios.member("ios", "c1"), ios.member("ios", "c2")))
    release.set()
    for thread in (writer[0], checks[0]):
        assert isinstance(thread, threading.Thread)
        thread.join(HELD)
    assert isinstance(writer[1], RuntimeError)
    member, non_member = checks[1]  # type: ignore[misc]
    assert member is not None
    assert non_member is None
    assert ios.member("ios", "c1") is not None
    assert ios.member("ios", "c2") is None


def test_a_member_check_sees_a_commit_of_another_process(
    service: Segmentry, database_url: str, clock: object, ios: Shop
) -> None:
    assert ios.member("ios", "c2") is None
    with Segmentry(database_url, clock=clock) as other:  # type: ignore[arg-type]
        other.shop(ios.tenant_id).upsert("customer", "c2", {"platform": "ios"})
    found = ios.member("ios", "c2")
    assert found is not None
    assert found.since == service.now()
