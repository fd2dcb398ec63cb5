"""Encoding the documents of a batch: each distinct value encoded once.

:func:`~segmentry.model.values.encode` takes one document at a time; a batch of
thousands repeats most of its values, so :class:`Encoder` keeps, per attribute,
every stored value's encoded form, seeded by batch validation
(:mod:`segmentry.model.batch_values`) where it already knows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from segmentry.model.schema import AttrType, Schema
from segmentry.model.values import ENCODERS, Record, fold

SAME = (AttrType.NUMBER, AttrType.INTEGER, AttrType.BOOLEAN)  # encoded as they are


class Encoder:
    """``encode`` for the documents of one batch, each distinct value encoded once."""

    def __init__(self, schema: Schema) -> None:
        self.encoders = {a.key: ENCODERS[a.type] for a in schema}
        # Per attribute: stored value -> encoded (lists by their tuple); None where a
        # value is encoded as it is.
        self.memo: dict[str, dict[Any, Any] | None] = {
            a.key: None if a.type in SAME else {} for a in schema
        }
        self.keys = frozenset(self.memo)
        self.encoded = [(k, m) for k, m in self.memo.items() if m is not None]

    def seed(self, key: str, encoded: Mapping[Any, Any]) -> None:
        """The encoded forms of some stored values, known already."""
        memo = self.memo[key]
        assert memo is not None
        memo.update(encoded)

    def fold_all(self, key: str, texts: set[Any]) -> None:
        """Encode the strings an attribute will store, all at once."""
        memo = self.memo[key]
        assert memo is not None
        strings = [t for t in texts if type(t) is str]
        plain = [t for t in strings if t.isascii()]
        # NFC leaves ASCII as it is, and casefolding ASCII is lowering it.
        memo.update(zip(plain, map(str.lower, plain), strict=True))
        if len(plain) < len(strings):
            memo.update((t, fold(t)) for t in strings if not t.isascii())

    def record(self, doc: Mapping[str, Any]) -> Record:
        """The evaluation record of a stored document (which holds no nulls): equal to
        ``encode``'s. Runs for every entity of a batch: numbers and flags are encoded as
        they are, so the document is copied whole and only the other values are
        replaced, each found in its attribute's memo (one lookup)."""
        if not doc.keys() <= self.keys:  # keys outside the schema are left out
            doc = {k: v for k, v in doc.items() if k in self.keys and v is not None}
        record: Record = dict(doc)
        for key, memo in self.encoded:
            if key in record:
                value = record[key]
                try:
                    record[key] = memo[tuple(value) if type(value) is list else value]
                except KeyError:  # first seen in this batch (or None, left as it is)
                    if value is not None:
                        found = tuple(value) if type(value) is list else value
                        record[key] = memo[found] = self.encoders[key](value)
        return record
