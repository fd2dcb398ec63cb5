"""The bodies of products and customers: built-in attributes at the top level, the
tenant's custom ones under ``attributes``.

The built-in attributes are described in the OpenAPI document from the
library's own list of them, so the two cannot drift. Their values are not
converted here: they reach the library as sent, which validates every value
against its type and says which entity, attribute and value was wrong.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from segmentry.engine.entities import MAX_BATCH
from segmentry.engine.reads import MAX_PAGE
from segmentry.model.limits import MAX_SAFE_INTEGER, MAX_TEXT_LENGTH
from segmentry.model.schema import BUILTINS, Attribute, AttrType, Kind

Document = dict[str, Any]

JSON_TYPES: dict[AttrType, dict[str, Any]] = {
    AttrType.STRING: {"type": "string"},
    AttrType.ENUM: {"type": "string"},
    AttrType.NUMBER: {"type": "number"},
    AttrType.INTEGER: {
        "type": "integer",
        "minimum": -MAX_SAFE_INTEGER,
        "maximum": MAX_SAFE_INTEGER,
    },
    AttrType.BOOLEAN: {"type": "boolean"},
    AttrType.DATE: {"type": "string", "description": "A date, YYYY-MM-DD."},
    AttrType.DATETIME: {
        "type": "string",
        "description": "ISO 8601, such as 2024-03-01T10:00:00Z (without an offset: the "
        "tenant's time zone); stored in UTC.",
    },
    AttrType.STRING_LIST: {"type": "array", "items": {"type": "string"}},
}

CUSTOM_DESCRIPTION = (
    "The tenant's custom attributes (declared with POST /v1/attributes), by key; "
    "`null` (or, in a patch, a `null` value) removes."
)


def property_schema(attribute: Attribute, *, nullable: bool) -> dict[str, Any]:
    """An attribute's JSON schema; ``nullable`` where ``null`` means absent."""
    schema = dict(JSON_TYPES[attribute.type])
    description = attribute.label + (
        f": one of {', '.join(attribute.values)}" if attribute.values else ""
    )
    if "description" in schema:
        description = f"{description}. {schema.pop('description')}"
    if nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "description": description}


def _document(kind: Kind, *, written: bool, required: tuple[str, ...] = ()) -> Any:
    """A ``json_schema_extra`` that lists the built-in attributes of ``kind``: the ones a
    write may give (nullable, as ``null`` means absent) or every stored one."""
    attributes = [a for a in BUILTINS[kind] if not (written and a.derived)]

    def describe(schema: dict[str, Any]) -> None:
        properties = {
            a.key: property_schema(a, nullable=written and a.key not in required)
            for a in attributes
        }
        properties["attributes"] = schema["properties"]["attributes"]
        schema["properties"] = properties
        if required:
            schema["required"] = list(required)

    return describe


class EntityBody(BaseModel):
    """An entity as a write gives it; unknown keys are refused by validation, which
    suggests the key meant (``did you mean 'price'?``)."""

    model_config = ConfigDict(extra="allow")
    kind: ClassVar[Kind]

    attributes: dict[str, Any] | None = Field(default=None, description=CUSTOM_DESCRIPTION)

    def sent(self) -> Document:
        """The body as sent, to be flattened and validated by the library. Its values
        are JSON values, kept as parsed: ``model_dump`` would copy every one of them,
        which for a body of many keys costs as much as reading it."""
        declared = type(self).model_fields.keys() & self.model_fields_set
        given = {name: getattr(self, name) for name in declared}
        return {**given, **(self.__pydantic_extra__ or {})}


class ProductBody(EntityBody):
    kind = Kind.PRODUCT
    model_config = ConfigDict(
        extra="allow", json_schema_extra=_document(Kind.PRODUCT, written=True)
    )


class CustomerBody(EntityBody):
    kind = Kind.CUSTOMER
    model_config = ConfigDict(
        extra="allow", json_schema_extra=_document(Kind.CUSTOMER, written=True)
    )


class ProductItem(ProductBody):
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra=_document(Kind.PRODUCT, written=True, required=("id",)),
    )
    id: Any


class CustomerItem(CustomerBody):
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra=_document(Kind.CUSTOMER, written=True, required=("id",)),
    )
    id: Any


class ProductBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[ProductItem] = Field(max_length=MAX_BATCH, description="All or nothing.")


class CustomerBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[CustomerItem] = Field(max_length=MAX_BATCH, description="All or nothing.")


class EntityOut(BaseModel):
    """A stored entity: every stored attribute, derived ones included."""

    model_config = ConfigDict(extra="allow")

    id: str
    attributes: dict[str, Any] = Field(description="The custom attributes, by key.")


class ProductOut(EntityOut):
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra=_document(Kind.PRODUCT, written=False, required=("id", "attributes")),
    )


class CustomerOut(EntityOut):
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra=_document(Kind.CUSTOMER, written=False, required=("id", "attributes")),
    )


class Upserted(BaseModel):
    upserted: int = Field(description="How many items were written.")


class SegmentOfEntity(BaseModel):
    code: str
    since: datetime = Field(description="When the entity entered the segment.")


class EntitySearch(BaseModel):
    """``POST /v1/{products,customers}/search``: the query of a listing, in a body."""

    model_config = ConfigDict(extra="forbid")

    rule: str | None = Field(
        default=None,
        max_length=MAX_TEXT_LENGTH,
        description="Only the entities this rule selects (text form), e.g. `price > 100`; "
        "the same rule the `rule` query parameter of the listing takes, however long.",
        examples=["price > 100"],
    )
    limit: int = Field(default=100, ge=1, le=MAX_PAGE, description="Items per page, 1 to 1,000.")
    cursor: str | None = Field(
        default=None,
        max_length=1_000,
        description="The `next_cursor` of the previous page (of this search or of the listing "
        "with the same rule); leave out for the first page.",
    )
