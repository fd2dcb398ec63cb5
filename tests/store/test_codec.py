"""Member chunks: editing the stored bytes (the bulk-write shortcuts) gives exactly the
chunk an edit of the decoded arrays gives."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from segmentry.model.bitmaps import ascending_bitmap, bitmap_of
from segmentry.store.codec import (
    CHUNK_SIZE,
    Chunk,
    decode_members,
    decode_since,
    edit_chunk,
    encode_since,
    entered_at,
)
from tests.conftest import examples

seqs = st.lists(st.integers(0, CHUNK_SIZE - 1), max_size=40)


@st.composite
def edits(draw: st.DrawFn) -> tuple[Chunk | None, np.ndarray, np.ndarray, int]:
    """A chunk (or none), seqs entering (often above its members, as in bulk writes),
    seqs leaving, and the moment."""
    base = draw(st.integers(0, 3)) * CHUNK_SIZE
    old = None
    if draw(st.booleans()):
        members = np.unique(np.array(draw(seqs), dtype=np.int64)).astype(np.uint32) + base
        moments = st.integers(0, 99) if draw(st.booleans()) else st.sampled_from([7, 100])
        times = st.lists(moments, min_size=len(members), max_size=len(members))
        old = Chunk(members, np.array(draw(times), dtype=np.int64))
    entered = np.unique(np.array(draw(seqs), dtype=np.int64)) + base
    if old is not None and len(old) and draw(st.booleans()):
        entered = entered[entered > old.members.max()]
    exited = np.array(draw(seqs), dtype=np.int64) + base
    if draw(st.booleans()):
        exited = exited[:0]
    return old, entered, exited, draw(st.integers(100, 200))


@settings(max_examples=examples(400, 100))
@given(edit=edits())
def test_editing_stored_bytes_equals_editing_the_arrays(edit: tuple) -> None:
    old, entered, exited, at = edit
    stored = old.encode() if old is not None else None
    if stored is not None and len(old.since) and old.since[0] % 2:  # as stored before runs
        stored = (stored[0], old.since.astype("<i8").tobytes())
    expected = Chunk(old.members.copy(), old.since.copy()) if old is not None else Chunk()
    expected.apply(entered, exited, at)
    result = edit_chunk(stored, BitMap(entered.tolist()), BitMap(exited.tolist()), at)
    if not len(expected):
        assert result is None or not len(decode_members(result[0]))
        return
    assert result is not None
    got = Chunk.decode(*result)
    assert got.members.tolist() == expected.members.tolist()
    assert got.since.tolist() == expected.since.tolist()


@settings(max_examples=examples(400, 100))
@given(
    edit=edits(),
    seq=st.integers(0, CHUNK_SIZE - 1),
    entering=st.booleans(),
    at=st.sampled_from([7, 100, 150]),
)
def test_one_seq_entering_or_leaving_edits_as_the_arrays_do(
    edit: tuple, seq: int, entering: bool, at: int
) -> None:
    """A single-entity write's edit (one seq), which takes its place from the rank and
    edits the stored times as bytes (the new time often equal to a neighbour's)."""
    old = edit[0] if edit[0] is not None and len(edit[0]) else Chunk(np.array([5], np.uint32))
    old.since = old.since if len(old.since) == len(old) else np.array([1], np.int64)
    seq += int(old.members[0]) // CHUNK_SIZE * CHUNK_SIZE
    one = np.array([seq], dtype=np.int64)
    entered, exited = (one, one[:0]) if entering else (one[:0], one)
    expected = Chunk(old.members.copy(), old.since.copy())
    expected.apply(entered, exited, at)
    stored = old.encode()
    if old.since[0] % 2:  # as stored before runs
        stored = (stored[0], old.since.astype("<i8").tobytes())
    result = edit_chunk(stored, BitMap(entered.tolist()), BitMap(exited.tolist()), at)
    if not len(expected):
        assert result is None
        return
    assert result is not None
    got = Chunk.decode(*result)
    assert got.members.tolist() == expected.members.tolist()
    assert got.since.tolist() == expected.since.tolist()


def test_bitmaps_of_arrays_hold_the_same_seqs() -> None:
    values = np.array([5, 1, 70_000, 4_096, 1], dtype=np.int64)
    assert list(bitmap_of(values)) == [1, 5, 4_096, 70_000]


@settings(max_examples=examples(400, 100))
@given(
    st.sets(
        st.one_of(st.integers(0, 70_000), st.integers(2**32 - 70_000, 2**32 - 1)), max_size=9_000
    ),
    st.integers(0, 2**31),
)
def test_bitmaps_of_ascending_seqs_read_back_as_built(values: set[int], dense_from: int) -> None:
    """Both kinds of container: a dense run of more than 4,096 seqs becomes a bitset."""
    if len(values) % 3 == 0:
        values |= set(range(dense_from, dense_from + 5_000, 2)) | set(range(3, 65_536, 5))
    ordered = np.array(sorted(values), dtype=np.uint32)
    assert ascending_bitmap(ordered) == BitMap(sorted(values))


@settings(max_examples=examples(400, 100))
@given(st.lists(st.sampled_from([0, 1, 2**40, -(2**62)]), max_size=300))
def test_entry_times_read_back_as_written(times: list[int]) -> None:
    since = np.array(times, dtype=np.int64)
    stored = encode_since(since)
    assert decode_since(stored).tolist() == times
    assert len(stored) <= since.nbytes  # runs only when shorter
    assert decode_since(since.astype("<i8").tobytes()).tolist() == times  # the plain form


@settings(max_examples=examples(400, 100))
@given(edit=edits())
def test_one_entry_time_read_from_the_stored_chunk_is_the_decoded_ones(edit: tuple) -> None:
    old, entered, exited, now = edit
    chunk = Chunk() if old is None else old
    chunk.apply(entered, exited, now)
    members, since = chunk.encode()
    for seq in {*chunk.members.tolist(), *entered.tolist(), *exited.tolist()}:
        assert entered_at(members, since, seq) == chunk.since_of(seq)


def test_an_import_stores_one_run_per_moment() -> None:
    since = np.repeat(np.array([10, 20], dtype=np.int64), [4_000, 96])
    assert len(encode_since(since)) == 1 + 2 * 16


@settings(max_examples=examples(400, 100))
@given(edit=edits())
def test_a_chunk_edit_keeps_members_and_their_entry_times_as_a_plain_record_would(
    edit: tuple,
) -> None:
    """Leaving members go; entering ones already there keep their entry time, new ones
    enter at the moment; the members stay sorted."""
    old, entered, exited, at = edit
    chunk = Chunk(old.members.copy(), old.since.copy()) if old is not None else Chunk()
    plain = dict(zip(chunk.members.tolist(), chunk.since.tolist(), strict=True))
    for seq in exited.tolist():
        plain.pop(seq, None)
    for seq in entered.tolist():
        plain.setdefault(seq, at)
    chunk.apply(entered, exited, at)
    assert list(zip(chunk.members.tolist(), chunk.since.tolist(), strict=True)) == sorted(
        plain.items()
    )
