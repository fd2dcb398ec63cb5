"""What the call groups mixed into :class:`~segmentry.engine.shop.Shop` rely on: the
tenant's ids and ``Segmentry``, and the write transaction and consistent read that
``Shop`` opens for each call."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from segmentry.engine.state import View
from segmentry.engine.transaction import Transaction

if TYPE_CHECKING:
    from segmentry.engine.segmentry import Segmentry


class ShopCalls:
    """The base of ``Shop``'s call groups (entities, orders); ``Shop`` supplies it."""

    segmentry: Segmentry
    tenant_id: int

    def _write(self) -> AbstractContextManager[Transaction]:
        raise NotImplementedError  # pragma: no cover - Shop's

    def _read(self) -> AbstractContextManager[View]:
        raise NotImplementedError  # pragma: no cover - Shop's
