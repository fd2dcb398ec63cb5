"""Which tenants' states a process keeps in memory: loaded on demand, the least
recently used dropped when their estimated size passes a memory budget.

A state is what :func:`segmentry.engine.state.load` builds from the database, so
dropping one loses nothing: the next call that needs it loads it again. A state
in use is never dropped: a transaction or a consistent read *pins* its tenant
for as long as it runs, and only unpinned states are dropped (or measured, as a
state is changed only under its pin). The lock-free member check does not pin:
it holds the state object itself, which stays whole while it reads, and answers
from it as of its revision.

The size of a state is estimated, not measured: the bytes of its numpy columns
and roaring bitmaps, the strings of its text columns, and a fixed allowance per
segment and per remembered id (docs/architecture.md, Memory). It is taken when
the state is loaded and again, for every state not in use, whenever another is.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pyroaring import BitMap

from segmentry.engine.state import TenantState
from segmentry.errors import ValidationError

SEGMENT_BYTES = 4096
"""Allowance per segment: its row, checked tree, compiled predicate and rule-index entries."""
SEQ_BYTES = 120
"""Allowance per id whose seq the member check remembered (a dict entry and its string)."""
MIN_DEFAULT_BUDGET = 256 << 20
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def default_budget() -> int:
    """A quarter of the machine's physical memory (at least 256 MiB): room for the
    other processes of ``serve --workers`` and for the evaluator's temporary frames."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # no sysconf: not a POSIX system
        return 4 * MIN_DEFAULT_BUDGET
    return max(MIN_DEFAULT_BUDGET, physical // 4)


def parse_size(text: str) -> int:
    """Bytes of a size such as ``512M``, ``2G``, ``1.5GiB`` or ``1000000`` (binary units)."""
    found = SIZE.match(text)
    if found is None:
        raise ValidationError(
            f"memory budget {text!r} is not a size; write e.g. 512M, 2G or a number of bytes",
            field="memory_budget",
        )
    size = int(float(found[1]) * UNITS[found[2].lower()])
    if size <= 0:
        raise ValidationError("the memory budget must be positive", field="memory_budget")
    return size


@dataclass(frozen=True, slots=True)
class Footprint:
    """A state's estimated resident bytes, by part."""

    columns: int
    """numpy arrays and list-item bitmaps of the columnar snapshot, and of the orders."""
    strings: int
    """The distinct values of text columns and their dictionaries."""
    members: int
    """Kept memberships (a roaring bitmap per segment)."""
    other: int
    """Segments' allowance and remembered ids."""

    @property
    def total(self) -> int:
        return self.columns + self.strings + self.members + self.other


def bitmap_bytes(bitmap: BitMap) -> int:
    stats = bitmap.get_statistics()
    return (
        64
        + stats["n_bytes_array_containers"]
        + stats["n_bytes_run_containers"]
        + stats["n_bytes_bitset_containers"]
    )


def footprint(state: TenantState) -> Footprint:
    columns = strings = 0
    for table in state.tables.values():
        columns += table.array_bytes(bitmap_bytes)
        strings += table.string_bytes()
    columns += state.purchases.array_bytes()  # the orders and their lines
    strings += state.purchases.orders.string_bytes()
    members = sum(bitmap_bytes(b) for b in state.members.values())
    seqs = sum(len(s) for s in state.seqs.values())
    return Footprint(
        columns, strings, members, SEGMENT_BYTES * len(state.segments) + SEQ_BYTES * seqs
    )


class Residency:
    """The states kept, least recently used first, within ``budget`` bytes (the most
    recent one is kept even alone over budget: it is in use)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._states: OrderedDict[int, TenantState] = OrderedDict()
        self._sizes: dict[int, int] = {}
        self._pins: dict[int, int] = {}
        self._guard = threading.Lock()

    def get(self, tenant_id: int) -> TenantState | None:
        """The kept state of a tenant, now the most recently used, or ``None``."""
        with self._guard:
            state = self._states.get(tenant_id)
            if state is not None:
                self._states.move_to_end(tenant_id)
            return state

    def put(self, tenant_id: int, state: TenantState) -> list[int]:
        """Keep a (newly loaded) state; returns the tenants dropped to make room."""
        with self._guard:
            self._states[tenant_id] = state
            self._states.move_to_end(tenant_id)
            for tid, kept in self._states.items():
                if tid == tenant_id or not self._pins.get(tid):
                    self._sizes[tid] = footprint(kept).total
            return self._evict(keep=tenant_id)

    def discard(self, tenant_id: int) -> None:
        with self._guard:
            self._states.pop(tenant_id, None)
            self._sizes.pop(tenant_id, None)

    def _evict(self, keep: int) -> list[int]:
        total = sum(self._sizes.values())
        dropped: list[int] = []
        for tid in list(self._states):
            if total <= self.budget:
                break
            if tid != keep and not self._pins.get(tid):
                del self._states[tid]
                total -= self._sizes.pop(tid, 0)
                dropped.append(tid)
        return dropped

    @contextmanager
    def pinned(self, tenant_id: int) -> Iterator[None]:
        """While the block runs, the tenant's state is not dropped."""
        with self._guard:
            self._pins[tenant_id] = self._pins.get(tenant_id, 0) + 1
        try:
            yield
        finally:
            with self._guard:
                left = self._pins[tenant_id] - 1
                if left:
                    self._pins[tenant_id] = left
                else:
                    del self._pins[tenant_id]

    def tenants(self) -> list[int]:
        """The tenants kept, least recently used first."""
        with self._guard:
            return list(self._states)

    def resident_bytes(self) -> int:
        """The estimated bytes of the states kept (as last measured)."""
        with self._guard:
            return sum(self._sizes.values())
