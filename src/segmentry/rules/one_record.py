"""Some of the rules of a :class:`~segmentry.rules.rule_index.RuleIndex` against one
record, in a few numpy operations.

:class:`LeafTests` holds every condition (leaf) of the index as a row of
arrays. Reading one record fills a table of flags, one per *code*: a value or
list item some condition names (``country = 'DE'``, ``tags CONTAINS 'vip'``),
"has a value" of an attribute, and the answer of each group of time-moving
conditions that share a literal (``last_order_at > -30d``: one answer for
all of them). Most leaves are one code, so any set of them is answered with
one gather; fixed ranges compare the record's value with their bounds (closed
ones: an exclusive end is stored as the next value inward); the few others
(``IN`` lists, string tests) take a slower path.

Most rules are a conjunction of conditions, some negated (``AND``, ``NOT``
over a condition, ``NOT`` over an ``OR``). Their leaves are numbered
consecutively, so :func:`spans` turns a set of such rules into the leaves to
test, and :func:`all_of` answers every rule from its literals at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from segmentry.rules.index_parts import INT_HIGH, INT_LOW, Ranges, Timed, bounds, safe_test
from segmentry.rules.lowering import Range

Record = Mapping[str, Any]
Moment = Callable[[Timed], Ranges]
"""A :class:`Timed`'s bounds at the moment of evaluation."""

CODE, RANGE, CODES, TESTED, SEGMENT = range(5)
"""Leaf kinds: one code; a fixed range; several codes (``IN``, ``CONTAINS ANY``,
``CONTAINS ALL``); a Python test (substrings, patterns); ``IN SEGMENT`` (not
answered here)."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One record as :meth:`LeafTests.truth` reads it."""

    record: Record
    numbers: np.ndarray
    integers: np.ndarray
    has: np.ndarray


class LeafTests:
    """Every leaf's test as arrays, built leaf by leaf, then frozen."""

    def __init__(self) -> None:
        self.key_ids: dict[str, int] = {}
        self.integer: list[bool] = []  # per attribute: int64 values (dates) or float64
        self.codes: list[dict[Any, int]] = []  # per attribute: value or item -> code
        self.present_code: list[int] = []  # per attribute: the code "has a value" (or -1)
        self.timed: list[tuple[int, Timed, list[int]]] = []  # attribute, groups, their codes
        self._leaf: dict[int, tuple[int, int, Any]] = {}  # leaf -> (kind, attribute, data)
        self.tested: dict[int, tuple[str, Callable[[Any], bool]]] = {}
        self.code_total = 0

    # -- building ---------------------------------------------------------------------

    def _key(self, key: str, integer: bool) -> int:
        if key not in self.key_ids:
            self.key_ids[key] = len(self.codes)
            self.integer.append(integer)
            self.codes.append({})
            self.present_code.append(-1)
        return self.key_ids[key]

    def _code(self, k: int, value: Any) -> int:
        found = self.codes[k].get(value)
        if found is None:
            found = self.codes[k][value] = self._new_code()
        return found

    def _new_code(self) -> int:
        self.code_total += 1
        return self.code_total - 1

    def range(self, leaf: int, key: str, integer: bool, test: Range) -> None:
        self._leaf[leaf] = (RANGE, self._key(key, integer), bounds(test, integer))

    def timed_group(self, leaf: int, key: str, timed: Timed, group: int) -> None:
        k = self._key(key, True)
        entry = next((e for e in self.timed if e[1] is timed), None)
        if entry is None:
            entry = (k, timed, [])
            self.timed.append(entry)
        if group == len(entry[2]):  # groups are numbered as they appear
            entry[2].append(self._new_code())
        self._leaf[leaf] = (CODE, k, entry[2][group])

    def values(self, leaf: int, key: str, integer: bool, values: Iterable[Any], need: int) -> None:
        k = self._key(key, integer)
        codes = [self._code(k, v) for v in values]
        single = len(codes) == 1 and need == 1
        self._leaf[leaf] = (CODE, k, codes[0]) if single else (CODES, k, (codes, need))

    def present(self, leaf: int, key: str, integer: bool) -> None:
        k = self._key(key, integer)
        if self.present_code[k] < 0:
            self.present_code[k] = self._new_code()
        self._leaf[leaf] = (CODE, k, self.present_code[k])

    def test(self, leaf: int, key: str, integer: bool, test: Callable[[Any], bool]) -> None:
        self._leaf[leaf] = (TESTED, self._key(key, integer), None)
        self.tested[leaf] = (key, test)

    def freeze(self, leaf_count: int) -> None:
        self.never = self._new_code()  # a flag no record sets: the code of other leaves
        self.always = self._new_code()  # a flag every record sets
        self.kind = np.full(leaf_count, SEGMENT, dtype=np.int8)
        self.code = np.full(leaf_count, self.never, dtype=np.int64)
        self.key = np.zeros(leaf_count, dtype=np.int64)
        # Closed ranges; a leaf that is not a range of that type gets an empty one.
        self.low_f, self.high_f = np.full(leaf_count, np.inf), np.full(leaf_count, -np.inf)
        self.low_i = np.full(leaf_count, INT_HIGH, dtype=np.int64)
        self.high_i = np.full(leaf_count, INT_LOW, dtype=np.int64)
        self.code_start = np.zeros(leaf_count, dtype=np.int64)
        self.code_count = np.zeros(leaf_count, dtype=np.int64)
        self.need = np.zeros(leaf_count, dtype=np.int64)
        flat: list[int] = []
        for leaf, (kind, k, data) in self._leaf.items():
            self.kind[leaf], self.key[leaf] = kind, k
            if kind == CODE:
                self.code[leaf] = data
            elif kind == RANGE:
                self._freeze_range(leaf, k, data)
            elif kind == CODES:
                codes, self.need[leaf] = data
                self.code_start[leaf], self.code_count[leaf] = len(flat), len(codes)
                flat.extend(codes)
        self.flat_codes = np.array(flat, dtype=np.int64)
        ranges = {bool(self.integer[k]) for kind, k, _ in self._leaf.values() if kind == RANGE}
        self.float_ranges, self.int_ranges = False in ranges, True in ranges
        self.slow = bool((self.kind == CODES).any() or self.tested)
        self.timed_codes = [(k, t, np.array(c, dtype=np.int64)) for k, t, c in self.timed]

    def _freeze_range(self, leaf: int, k: int, data: tuple[Any, bool, Any, bool]) -> None:
        """Exclusive ends become the next value inward: exact for int64, and for
        float64 (no float lies between a float and the next one)."""
        low, low_inc, high, high_inc = data
        if self.integer[k]:
            self.low_i[leaf] = low if low_inc else low + 1
            self.high_i[leaf] = high if high_inc else high - 1
        else:
            self.low_f[leaf] = low if low_inc else np.nextafter(low, np.inf)
            self.high_f[leaf] = high if high_inc else np.nextafter(high, -np.inf)

    # -- answering ----------------------------------------------------------------------

    def read(self, record: Record, moment: Moment) -> Reading:
        """What answering leaves for ``record`` needs: its values by attribute (NaN, or
        a value below every bound, where absent) and its flag per code."""
        count = len(self.codes)
        numbers = np.full(count, np.nan)
        integers = np.full(count, INT_LOW - 1, dtype=np.int64)
        has = np.zeros(self.code_total, dtype=np.bool_)
        has[self.always] = True
        for key, value in record.items():
            k = self.key_ids.get(key)
            if k is None:
                continue
            codes = self.codes[k]
            if isinstance(value, tuple | list):
                has[[codes[i] for i in value if i in codes]] = True
            else:
                code = codes.get(value)
                if code is not None:
                    has[code] = True
                if self.integer[k]:
                    integers[k] = value
                elif not isinstance(value, str | bool):
                    numbers[k] = value
            if self.present_code[k] >= 0:
                has[self.present_code[k]] = True
        for k, timed, group_codes in self.timed_codes:
            _, low, low_inc, high, high_inc = moment(timed).frozen
            value = integers[k]
            above = np.where(low_inc, value >= low, value > low)
            has[group_codes] = above & np.where(high_inc, value <= high, value < high)
        return Reading(record, numbers, integers, has)

    def truth(self, leaves: np.ndarray, reading: Reading) -> np.ndarray:
        """Whether each of ``leaves`` holds for the record read (before any ``NOT``)."""
        out: np.ndarray = reading.has[self.code[leaves]]
        if self.float_ranges or self.int_ranges:
            keys = self.key[leaves]
            if self.float_ranges:
                out |= _within(reading.numbers[keys], self.low_f[leaves], self.high_f[leaves])
            if self.int_ranges:
                out |= _within(reading.integers[keys], self.low_i[leaves], self.high_i[leaves])
        if self.slow:
            kinds = self.kind[leaves]
            several = np.flatnonzero(kinds == CODES)
            if len(several):
                out[several] = self._several(leaves[several], reading.has)
            for at in np.flatnonzero(kinds == TESTED).tolist():
                key, test = self.tested[int(leaves[at])]
                out[at] = safe_test(test, reading.record.get(key))
        return out

    def _several(self, leaves: np.ndarray, has: np.ndarray) -> np.ndarray:
        """Leaves of several codes: at least ``need`` of their codes set."""
        counts = self.code_count[leaves]
        hits = has[self.flat_codes[spans(self.code_start[leaves], counts)]]
        out: np.ndarray = count_of(hits, counts) >= self.need[leaves]
        return out


def _within(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``low <= value <= high`` (NaN, and the missing value below every bound, fail)."""
    out: np.ndarray = (values >= low) & (values <= high)
    return out


def spans(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``starts[i] .. starts[i] + counts[i] - 1`` for every ``i``, end to end."""
    total = int(counts.sum())
    if total == len(counts):  # one each (rules of one condition): no gaps to fill
        return starts
    offsets = np.cumsum(counts) - counts
    out: np.ndarray = np.arange(total, dtype=np.int64) + np.repeat(starts - offsets, counts)
    return out


def count_of(flags: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """For consecutive groups of ``counts`` flags (each at least one): how many of a
    group's flags are set. One running sum is several times faster than
    ``add.reduceat`` over many small groups."""
    so_far = np.cumsum(flags, dtype=np.int64)
    ends = np.cumsum(counts) - 1
    out: np.ndarray = so_far[ends]
    out[1:] -= so_far[ends[:-1]]
    return out


def all_of(literals: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """For consecutive groups of ``counts`` literals (each at least one): whether all
    of a group's literals hold."""
    out: np.ndarray = count_of(~literals, counts) == 0
    return out
