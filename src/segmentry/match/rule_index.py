"""Many rules over some rows: which rules hold for each row, and which a change can flip.

A :class:`RuleIndex` compiles a set of checked rules (of one kind) into one
flat program (its build: :mod:`segmentry.match.compiled_rules`). Its leaves are
the rules' conditions, grouped by attribute and test so that each group is
evaluated with a few numpy operations for every row and every rule at once; its
inner nodes (``AND``, ``OR``, ``NOT``) are evaluated level by level with
``reduceat`` (:mod:`segmentry.match.rule_pass`). :meth:`RuleIndex.holds` reads the
rows' values straight from a :class:`ColumnarTable` and answers a rows x rules
matrix: one vectorised pass for a whole batch.

For one entity changing from an old to a new record, :meth:`RuleIndex.candidates`
finds the rules whose answer can differ without evaluating the others: sorted
bounds for ranges (only bounds between the old and the new value matter),
value maps for equality and list items, and an exact re-test of the few string
conditions of the changed attributes. :meth:`RuleIndex.recheck` then answers
those candidates for the new record from the record itself
(:mod:`segmentry.match.one_record`): first each one's *guard*, a condition of
its top-level ``AND`` it cannot hold without (``country = 'DE'``), then every
condition of the conjunctions whose guard held, all at once; rules of other
shapes whose guard held are left to their predicates.

Conditions with relative times or day words move with the clock. They are
grouped by their literal: at each new moment every distinct literal is
lowered once and its bounds stand for all the conditions that share it.

``IN SEGMENT`` and behaviour functions read no attribute of the entity (they are
answered from memberships and the tenant's orders): a change never names a rule on
their account, and a rule with one, once named and its guard holding, is left to
its predicate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from segmentry.match.columnar import ColumnarTable
from segmentry.match.columns import TimeColumn
from segmentry.match.compiled_rules import CompiledRules
from segmentry.match.eval_columnar import Rows
from segmentry.match.eval_columnar import no_segments as no_member_rows
from segmentry.match.index_parts import KeyIndex, Ranges, Timed, safe_test
from segmentry.match.one_record import Reading, all_of, spans
from segmentry.match.order_view import OrderView
from segmentry.match.rule_pass import behaviour_held, compared_rows, fill, run_levels

Record = Mapping[str, Any]
MemberRows = Callable[[str], np.ndarray]
"""For ``IN SEGMENT``: a boolean per row, whether it is a member of the code."""


@dataclass(frozen=True, slots=True)
class Recheck:
    """What one change needs: the candidates ``answered`` with their answers ``holds``
    for the new record, and the candidates ``others`` (rules of other shapes whose
    guard held) to re-check with their predicates."""

    answered: np.ndarray
    holds: np.ndarray
    others: np.ndarray


class RuleIndex(CompiledRules):
    """A set of checked rules of one kind, compiled together (:class:`CompiledRules`),
    and the questions asked of it: which rules hold for many rows, and which a change
    of one row can flip and how they answer for it."""

    def _moment(self, timed: Timed) -> Ranges:
        """A :class:`Timed`'s bounds at ``self.ctx``."""
        return timed.at(self.schema, self.ctx)

    # -- all rules, many rows -----------------------------------------------------------------

    def holds(
        self,
        table: ColumnarTable,
        rows: np.ndarray,
        member_rows: MemberRows,
        *,
        orders: OrderView | None = None,
        members: Rows = no_member_rows,
        behaviour: bool = True,
    ) -> np.ndarray:
        """A rows x rules boolean matrix: which rules hold for each of the distinct
        ``rows`` of ``table`` (a view of a rules x rows one: each rule's answers for the
        rows are contiguous). Behaviour functions read ``orders``, and the ``IN SEGMENT``
        inside their conditions ``members`` (the member seqs of a code of any kind).
        ``behaviour=False`` leaves behaviour functions unevaluated (false), so the
        answers of the rules holding one mean nothing: for a caller that re-checks
        those rules itself."""
        truth = np.zeros((self.row_count + len(self.ops), len(rows)), dtype=np.bool_)
        for index in self.pass_keys.values():
            timed = self._moment(index.timed) if index.timed.groups else None
            fill(truth, index, table, rows, timed)
        row = self.row_of
        for leaf, key, test in self.pairs:
            truth[row[leaf]] = compared_rows(table, rows, key, test)
        for key, yearly in self.yearly.items():
            column = table.columns[key]
            assert isinstance(column, TimeColumn)
            for leaf, condition in yearly:
                truth[row[leaf]] = condition.rows(self.ctx, column.values[rows])
        for leaf, code in self.segments:
            truth[row[leaf]] = member_rows(code)
        for leaf, node in self.behaviours if behaviour else ():
            truth[row[leaf]] = behaviour_held(
                node, self.schema, self.ctx, table, rows, members=members, orders=orders,
                shared=self.shared,
            )  # fmt: skip
        run_levels(truth, self.levels)
        result: np.ndarray = truth[self.roots].T
        return result

    # -- one row, changing --------------------------------------------------------------------

    def candidates(self, old: Record, new: Record, limit: int | None = None) -> np.ndarray | None:
        """Positions of the rules a change from ``old`` to ``new`` can flip; ``None``
        when more than ``limit`` conditions could (do the vectorised pass instead)."""
        leaves: list[np.ndarray] = []
        owners: list[np.ndarray] = []  # time groups know their rules
        total = 0
        for key, index in self.keys.items():
            before, after = old.get(key), new.get(key)
            if before == after:
                continue
            total += self._candidate_leaves(index, before, after, leaves, owners)
            if limit is not None and total > limit:
                return None
        if leaves:
            owners.append(np.take(self.leaf_owner, np.concatenate(leaves)))
        found = np.concatenate(owners) if owners else np.empty(0, dtype=np.int64)
        if len(found) * 8 < len(self.rule_ids):  # sorting a few beats a mask of them all
            return _distinct(found)
        mask = np.zeros(len(self.rule_ids), dtype=np.bool_)
        mask[found] = True
        return np.flatnonzero(mask)

    def recheck(self, old: Record | None, new: Record) -> Recheck | None:
        """For one changed entity: the rules its change can flip (all of them for a new
        entity, ``old`` is ``None``), answered for ``new`` where the record alone can
        answer them; ``None`` when one vectorised pass over the row is cheaper."""
        if old is None:
            candidates: np.ndarray | None = np.arange(len(self.rule_ids))
        else:
            candidates = self.candidates(old, new, self.candidate_limit)
        if candidates is None:
            return None
        if not len(candidates):
            return Recheck(candidates, np.zeros(0, dtype=np.bool_), candidates)
        if (
            len(candidates) > self.surely_cheaper
            and self.read_cost + self.weight[candidates].sum() > self.pass_cost
        ):
            return None
        possible = self._hold(candidates, self.tests.read(new, self._moment))
        if not self.predicates:
            return Recheck(candidates, possible, candidates[:0])
        other = self.by_predicate[candidates] & possible
        answered = ~other
        return Recheck(candidates[answered], possible[answered], candidates[other])

    def answers(self, rules: np.ndarray, record: Record) -> np.ndarray:
        """Whether each of ``rules`` holds for ``record``, all at once: conjunctions only
        (see ``conjunctive``); for other rules the answer is exact only where it is
        ``False`` (their guard fails)."""
        return self._hold(rules, self.tests.read(record, self._moment))

    def triage(self, candidates: np.ndarray, new: Record) -> tuple[np.ndarray, np.ndarray]:
        """Split candidate rules into those to re-check and those that cannot hold for
        ``new`` (their guard fails: they hold for nobody with its value)."""
        reading = self.tests.read(new, self._moment)
        holds = self._guards_hold(candidates, reading)
        return candidates[holds], candidates[~holds]

    def _hold(self, rules: np.ndarray, reading: Reading) -> np.ndarray:
        """Whether each of ``rules`` holds for the record read: exact for conjunctions,
        for other rules whether their guard holds. A rule's row of literal codes
        answers it (``literal_rows``): the flags of a row read as one integer are all
        set or not; ``take`` gathers faster than indexing."""
        codes = np.take(self.literal_rows, rules, axis=0).astype(np.intp)  # take's cast: slower
        literals = np.take(reading.flags, codes)
        out: np.ndarray = literals.view(self.row_word)[:, 0] == self.row_all
        if self.all_plain:
            return out
        apart = np.flatnonzero(out & ~np.take(self.plain, rules))  # their guard held
        if len(apart):  # their guard again if tested, the literals of conjunctions
            rest = rules[apart]
            possible = self._guards_hold(rest, reading)
            whole = possible & self.by_literals[rest]
            possible[whole] = self._all_hold(rest[whole], reading)
            out[apart] = possible
        return out

    def _guards_hold(
        self, rules: np.ndarray, reading: Reading, tested: np.ndarray | None = None
    ) -> np.ndarray:
        """Per rule: whether its guard holds (rules without one may always hold);
        ``tested``: the positions whose guard is not one flag, if known. Guards are
        never negated: the rule needs the condition to hold."""
        out: np.ndarray = reading.flags[self.guard_code[rules]]
        if tested is None:
            tested = np.flatnonzero(self.guard_tested[rules])
        if len(tested):
            out[tested] = self.tests.truth(self.guard[rules[tested]], reading)
        return out

    def _all_hold(self, rules: np.ndarray, reading: Reading) -> np.ndarray:
        """Whether every literal of each of ``rules`` (conjunctions) holds."""
        counts = self.leaves[rules]
        leaves = spans(self.first_leaf[rules], counts)
        literals: np.ndarray = reading.flags[self.literal_code[leaves]]
        if self.tests.one_by_one:
            self.tests.answer_one_by_one(literals, leaves, reading)
        return literals if len(leaves) == len(rules) else all_of(literals, counts)

    def _candidate_leaves(
        self,
        index: KeyIndex,
        before: Any,
        after: Any,
        leaves: list[np.ndarray],
        owners: list[np.ndarray],
    ) -> int:
        """Add the leaves of one attribute a move from ``before`` to ``after`` can flip
        (the rules of time groups as rules); returns how many were added."""
        added = len(leaves), len(owners)
        if index.ranges.leaves:
            leaves.append(_found(index.ranges, before, after))
        if index.timed.groups:
            owners.extend(index.timed.owners[g] for g in self._timed_groups(index, before, after))
        if index.counts.leaves:
            leaves.append(_found(index.counts, len(before or ()), len(after or ())))
        if index.paired:
            leaves.append(np.array(index.paired, dtype=np.int64))
        listed = isinstance(before, tuple | list) or isinstance(after, tuple | list)
        named = set(before or ()) ^ set(after or ()) if listed else (before, after)
        leaves.extend(found for v in named if (found := index.leaves_of(v)) is not None)
        if (before is None) != (after is None) and index.present:
            leaves.append(np.array(index.present, dtype=np.int64))
        if index.tested:
            moved = [n for n, t in index.tested if safe_test(t, before) != safe_test(t, after)]
            leaves.append(np.array(moved, dtype=np.int64))
        if index.key in self.yearly:
            leaves.append(self._yearly_leaves(index.key, before, after))
        return sum(len(a) for a in leaves[added[0] :]) + sum(len(a) for a in owners[added[1] :])

    def _yearly_leaves(self, key: str, before: Any, after: Any) -> np.ndarray:
        """The anniversaries a move can flip now, and those whose answer for the old value
        changed since ``since`` (its kept answer may be the one from before)."""
        now, since = self.ctx, self.since
        return np.array(
            [
                leaf
                for leaf, yearly in self.yearly[key]
                if yearly.holds(now, before) != yearly.holds(now, after)
                or (since is not None and yearly.holds(since, before) != yearly.holds(now, before))
            ],
            dtype=np.int64,
        )

    def _timed_groups(self, index: KeyIndex, before: Any, after: Any) -> list[int]:
        """The time groups of one attribute a move can flip now, and those whose bounds
        passed the old value since ``since``: their kept answer may be stale, and once
        the value has moved the next sweep would not look at it."""
        now = self._moment(index.timed)
        groups: list[int] = _found(now, before, after).tolist()
        if self.since is not None and before is not None:
            then = index.timed.at(self.schema, self.since)
            groups.extend(Timed.passed(then, now, before).tolist())
        return groups


def _found(ranges: Ranges, before: Any, after: Any) -> np.ndarray:
    """The conditions (or time groups) of ``ranges`` a move can flip."""
    if before is not None and after is not None:
        return ranges.crossed(before, after)
    value = np.array([after if before is None else before], dtype=ranges.frozen[1].dtype)
    found: np.ndarray = ranges.frozen[0][ranges.holding(value)[:, 0]]
    return found


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct ``values``, sorted (``np.unique`` hashes them first: many times
    slower for a few thousand)."""
    ordered = np.sort(values)
    keep = np.empty(len(ordered), dtype=np.bool_)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    out: np.ndarray = ordered[keep]
    return out
