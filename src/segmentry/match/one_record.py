"""Some of the rules of a :class:`~segmentry.match.rule_index.RuleIndex` against one
record, in a few numpy operations.

Reading one record fills a table of flags, one per *code*. A code stands for
one test that conditions share: a value or list item named (``country =
'DE'``, ``tags CONTAINS 'vip'``), a set of them (``country IN ('ES', 'PT')``),
"has a value", a group of time-moving conditions with the same literal
(``last_order_at > -30d``), and each distinct fixed range of an attribute
(``lifetime_value > 100``). Most conditions are exactly one code, so any set
of them is answered with one gather from the table, and a negated one from
its complement (the second half of the table). Reading costs a pass over the
attribute's distinct ranges (not its conditions: marketers reuse bounds) and
a few flags per value. The rare other conditions (``CONTAINS ALL`` of
several items, string tests) are answered one by one.

Most rules are a conjunction of conditions, some negated (``AND``, ``NOT``
over a condition, ``NOT`` over an ``OR``). Their leaves are numbered
consecutively, so :func:`spans` turns a set of such rules into the literals to
look up, and :func:`all_of` answers every rule from its literals at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from segmentry.match.index_parts import Ranges, Timed, bounds, closed, safe_test
from segmentry.match.lowering import Range

Record = Mapping[str, Any]
Moment = Callable[[Timed], Ranges]
"""A :class:`Timed`'s bounds at the moment of evaluation."""

WHOLE = ""
"""The key of a test answered from the whole record (no attribute is named so)."""
CODE, ONE_BY_ONE, SEGMENT = range(3)
"""Leaf kinds: one code; answered one by one; ``IN SEGMENT`` or a behaviour function
(not answered here: they read no attribute of the record)."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One record as :meth:`LeafTests.truth` reads it: a flag per code, then the
    complement of each (a negated literal's code is its code plus ``LeafTests.total``)."""

    record: Record
    flags: np.ndarray


@dataclass
class _RangeBlock:
    """The distinct fixed ranges of one attribute: their codes are consecutive."""

    key: str
    first: int
    low: np.ndarray
    high: np.ndarray


class LeafTests:
    """Every leaf's test as a code (or as a test answered one by one), built leaf by
    leaf, then frozen."""

    def __init__(self) -> None:
        self.codes: dict[str, dict[Any, int]] = defaultdict(dict)  # value or item -> code
        self.present_code: dict[str, int] = {}
        self.timed: list[tuple[str, Timed, list[int]]] = []  # attribute, groups, codes
        self.sets: dict[tuple[str, frozenset[int]], int] = {}  # IN, CONTAINS ANY
        self.ranges: dict[str, dict[tuple[Any, bool, Any, bool], list[int]]] = {}
        self.integer: dict[str, bool] = {}
        self._code_of: dict[int, int] = {}
        self.one_by_one: dict[int, tuple[str, Callable[[Any], bool]]] = {}
        self.total = 2  # codes 0 and 1: "never" (set by no record) and "always"

    # -- building ---------------------------------------------------------------------

    def _new_code(self) -> int:
        self.total += 1
        return self.total - 1

    def _value_code(self, key: str, value: Any) -> int:
        found = self.codes[key].get(value)
        if found is None:
            found = self.codes[key][value] = self._new_code()
        return found

    def range(self, leaf: int, key: str, integer: bool, test: Range) -> None:
        """Range codes are numbered when frozen, a consecutive block per attribute."""
        self.integer[key] = integer
        self.ranges.setdefault(key, {}).setdefault(bounds(test, integer), []).append(leaf)

    def timed_group(self, leaf: int, key: str, timed: Timed, group: int) -> None:
        entry = next((e for e in self.timed if e[1] is timed), None)
        if entry is None:
            entry = (key, timed, [])
            self.timed.append(entry)
        if group == len(entry[2]):  # groups are numbered as they appear
            entry[2].append(self._new_code())
        self._code_of[leaf] = entry[2][group]

    def values(self, leaf: int, key: str, values: Iterable[Any], need: int, test: Any) -> None:
        """A condition naming values or list items: it holds when the record has
        ``need`` of them."""
        codes = frozenset(self._value_code(key, v) for v in values)
        if len(codes) == 1 and need == 1:
            self._code_of[leaf] = next(iter(codes))
        elif need == 1:
            found = self.sets.get((key, codes))
            if found is None:
                found = self.sets[(key, codes)] = self._new_code()
            self._code_of[leaf] = found
        else:
            self.one_by_one[leaf] = (key, test)

    def present(self, leaf: int, key: str) -> None:
        if key not in self.present_code:
            self.present_code[key] = self._new_code()
        self._code_of[leaf] = self.present_code[key]

    def test(self, leaf: int, key: str, test: Callable[[Any], bool]) -> None:
        self.one_by_one[leaf] = (key, test)

    def whole(self, leaf: int, test: Callable[[Record], bool]) -> None:
        """A test of the whole record (two attributes compared), answered one by one."""
        self.one_by_one[leaf] = (WHOLE, test)

    def freeze(self, leaf_count: int) -> None:
        self.blocks = [self._block(key, by_bounds) for key, by_bounds in self.ranges.items()]
        self.kind = np.full(leaf_count, SEGMENT, dtype=np.int8)
        self.code = np.zeros(leaf_count, dtype=np.int64)  # "never" where not one code
        for leaf, code in self._code_of.items():
            self.kind[leaf], self.code[leaf] = CODE, code
        for leaf in self.one_by_one:
            self.kind[leaf] = ONE_BY_ONE
        self.member_of: dict[int, np.ndarray] = {}  # a value's code -> codes of its sets
        grouped: dict[int, list[int]] = defaultdict(list)
        for (_, codes), set_code in self.sets.items():
            for code in codes:
                grouped[code].append(set_code)
        self.member_of = {c: np.array(s, dtype=np.int64) for c, s in grouped.items()}
        self.timed_codes = [(key, t, np.array(c, dtype=np.int64)) for key, t, c in self.timed]
        self.keys = set(self.codes) | set(self.present_code) | {b.key for b in self.blocks}

    def _block(
        self, key: str, by_bounds: dict[tuple[Any, bool, Any, bool], list[int]]
    ) -> _RangeBlock:
        first = self.total
        for code, leaves in enumerate(by_bounds.values(), start=first):
            self._code_of.update(dict.fromkeys(leaves, code))
        self.total += len(by_bounds)
        integer = self.integer[key]
        dtype = np.int64 if integer else np.float64
        low, low_inc, high, high_inc = (np.array(part) for part in zip(*by_bounds, strict=True))
        low, high = closed(
            low.astype(dtype), low_inc, high.astype(dtype), high_inc, integer=integer
        )
        return _RangeBlock(key, first, low, high)

    # -- answering ----------------------------------------------------------------------

    def read(self, record: Record, moment: Moment) -> Reading:
        """The flags of ``record``: the values and items it has and the sets they are
        in, "has a value", and the answer of every distinct range and time group."""
        flags = np.zeros(2 * self.total, dtype=np.bool_)
        flags[1] = True  # "always"
        for key in self.keys.intersection(record):
            self._read_value(flags, key, record[key])
        for key, timed, group_codes in self.timed_codes:
            value = record.get(key)
            if value is not None:
                low, high = moment(timed).closed
                flags[group_codes] = (low <= value) & (value <= high)
        for block in self.blocks:
            value = record.get(block.key)
            if value is not None:
                end = block.first + len(block.low)
                flags[block.first : end] = (block.low <= value) & (value <= block.high)
        flags[self.total :] = ~flags[: self.total]
        return Reading(record, flags)

    def _read_value(self, flags: np.ndarray, key: str, value: Any) -> None:
        codes = self.codes.get(key, {})
        named = (
            [codes[v] for v in value if v in codes]
            if isinstance(value, tuple | list)
            else ([codes[value]] if value in codes else [])
        )
        for code in named:
            flags[code] = True
            sets = self.member_of.get(code)
            if sets is not None:
                flags[sets] = True
        present = self.present_code.get(key)
        if present is not None:
            flags[present] = True

    def truth(self, leaves: np.ndarray, reading: Reading) -> np.ndarray:
        """Whether each of ``leaves`` holds for the record read (before any ``NOT``)."""
        out: np.ndarray = reading.flags[self.code[leaves]]
        if self.one_by_one:
            self.answer_one_by_one(out, leaves, reading)
        return out

    def answer_one_by_one(self, out: np.ndarray, leaves: np.ndarray, reading: Reading) -> None:
        """Set ``out`` for the leaves that are not one code (``out`` holds their
        literals: a negated one's answer is flipped)."""
        for at in np.flatnonzero(self.kind[leaves] == ONE_BY_ONE).tolist():
            key, test = self.one_by_one[int(leaves[at])]
            holds = (
                test(reading.record) if key is WHOLE else safe_test(test, reading.record.get(key))
            )
            out[at] = holds ^ bool(out[at])


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
