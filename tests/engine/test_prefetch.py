"""The load's read-ahead thread hands every chunk over in order, and fails as the
reading fails."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from segmentry.engine.prefetch import ahead


def test_every_item_arrives_in_order() -> None:
    with ahead(iter(range(50))) as items:
        assert list(items) == list(range(50))


def test_a_failing_read_raises_in_the_consumer() -> None:
    def reads() -> Iterator[int]:
        yield 1
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError, match="went away"), ahead(reads()) as items:
        list(items)


def test_a_failing_consumer_stops_the_reads_before_it_goes_on() -> None:
    read: list[int] = []

    def reads() -> Iterator[int]:
        for number in range(1_000):
            read.append(number)
            yield number

    def consume() -> None:
        with ahead(reads()) as items:
            for number in items:
                if number == 3:
                    raise ValueError("stop at 3")

    with pytest.raises(ValueError, match="stop at 3"):
        consume()
    count = len(read)
    assert count < 10  # it read at most a chunk or two ahead, then stopped
    assert not [t for t in threading.enumerate() if t.name == "segmentry-load-ahead"]
