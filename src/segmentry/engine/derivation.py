"""The values segmentry sets on every written document: its stamps and the attributes
computed from others (``model.derived``), for one document or for a batch.

A batch of thousands of new documents gets them a column at a time (C-level passes of
``dict`` methods over the documents, averages divided in integers for the column),
with the same result, keys in the same order, as :func:`derive` one by one.
"""

from __future__ import annotations

from collections import deque
from itertools import compress, repeat
from operator import is_not
from typing import Any

from segmentry.model import derived
from segmentry.model.schema import Kind
from segmentry.model.values import Document

DERIVED = ("discount_percent", "average_order_value")


def derive(kind: Kind, doc: Document) -> None:
    """The attributes segmentry computes from others, exact to the hundredth
    (``model.derived``)."""
    for key in DERIVED:
        doc.pop(key, None)
    if kind is Kind.PRODUCT:
        price, original = doc.get("price"), doc.get("original_price")
        found = None if price is None else derived.discount_percent(price, original or 0)
        if found is not None:
            doc["discount_percent"] = found
    else:
        value, orders = doc.get("lifetime_value"), doc.get("orders_count")
        found = None if value is None else derived.average_order_value(value, orders or 0)
        if found is not None:
            doc["average_order_value"] = found


def stamp_and_derive(kind: Kind, docs: list[Document], created: dict[int, Any], stamp: str) -> None:
    """For plain dicts, what a write sets on each document, in this order: ``created_at``
    where the document has none (``created[n]`` for the n-th document, else ``stamp``),
    ``updated_at`` = ``stamp``, then :func:`derive`."""
    for at, when in created.items():
        if "created_at" not in docs[at]:
            docs[at]["created_at"] = when
    _each(dict.setdefault, docs, "created_at", stamp)
    _each(dict.__setitem__, docs, "updated_at", stamp)
    if kind is not Kind.CUSTOMER or len(docs) == 1:  # one: setting up the columns costs more
        for doc in docs:
            derive(kind, doc)
        return
    for key in DERIVED:
        _each(dict.pop, docs, key, None)
    averages = derived.average_order_values(
        _column(docs, "lifetime_value"), _column(docs, "orders_count")
    )
    found = list(map(is_not, averages, repeat(None)))
    _apply(
        dict.__setitem__, compress(docs, found), "average_order_value", compress(averages, found)
    )


def _column(docs: list[Document], key: str) -> list[Any]:
    return list(map(dict.get, docs, repeat(key)))


def _each(method: Any, docs: list[Document], key: str, value: Any) -> None:
    """``method(doc, key, value)`` for every document, with no Python step per document."""
    deque(map(method, docs, repeat(key), repeat(value)), maxlen=0)


def _apply(method: Any, docs: Any, key: str, values: Any) -> None:
    deque(map(method, docs, repeat(key), values), maxlen=0)
