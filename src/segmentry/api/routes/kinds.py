"""Products and customers share their routes; each kind has its own bodies (its path
is ``Kind.plural``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from segmentry.api.entity_bodies import (
    CustomerBatch,
    CustomerBody,
    CustomerOut,
    EntityOut,
    ProductBatch,
    ProductBody,
    ProductOut,
)
from segmentry.model.schema import Kind

F = TypeVar("F", bound=Callable[..., Any])

BODIES: dict[Kind, type[BaseModel]] = {Kind.PRODUCT: ProductBody, Kind.CUSTOMER: CustomerBody}
BATCHES: dict[Kind, type[BaseModel]] = {Kind.PRODUCT: ProductBatch, Kind.CUSTOMER: CustomerBatch}
OUTS: dict[Kind, type[EntityOut]] = {Kind.PRODUCT: ProductOut, Kind.CUSTOMER: CustomerOut}


def with_types(handler: F, **annotations: type) -> F:
    """Give one kind's models to a handler written for both kinds: FastAPI validates
    and documents a parameter by its annotation, which a type checker needs to be
    the models' common base."""
    handler.__annotations__ = {**handler.__annotations__, **annotations}
    return handler
