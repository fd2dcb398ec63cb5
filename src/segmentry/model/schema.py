"""Attributes: their types, the built-in ones of each kind, and declared custom ones.

A :class:`Schema` is what a tenant's rules are checked against and what entity
values are validated against: the built-in attributes of one kind plus the
tenant's custom attributes of that kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from segmentry.errors import SchemaError, ValidationError


class Kind(StrEnum):
    PRODUCT = "product"
    CUSTOMER = "customer"
    ORDER = "order"
    """Orders are records with attributes (built-in and declared) but are never
    segmented: they feed customer and product values (see ``model.orders``)."""

    @property
    def plural(self) -> str:
        """How paths and pages name many of them: ``products``, ``customers``."""
        return f"{self.value}s"


SEGMENTED_KINDS: tuple[Kind, ...] = (Kind.PRODUCT, Kind.CUSTOMER)
"""The kinds that have entities, segments and rules of their own."""


def segmented(kind: Kind | str) -> Kind:
    """``kind`` as a kind that segments and rules are about, or a ValidationError."""
    found = Kind(kind)
    if found not in SEGMENTED_KINDS:
        raise ValidationError(
            f"{found} is not a kind of segment or entity; expected product or customer "
            "(orders feed customer and product segments through their derived values)",
            field="kind",
        )
    return found


class AttrType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    STRING_LIST = "string_list"
    ENUM = "enum"

    @property
    def described(self) -> str:
        """How messages name the type: 'a number', 'a list'."""
        return DESCRIPTIONS[self]

    @property
    def is_textual(self) -> bool:
        return self in (AttrType.STRING, AttrType.ENUM)

    @property
    def is_numeric(self) -> bool:
        return self in (AttrType.NUMBER, AttrType.INTEGER)

    @property
    def is_temporal(self) -> bool:
        return self in (AttrType.DATE, AttrType.DATETIME)


DESCRIPTIONS = {
    AttrType.STRING: "a string",
    AttrType.NUMBER: "a number",
    AttrType.INTEGER: "an integer",
    AttrType.BOOLEAN: "a boolean",
    AttrType.DATE: "a date",
    AttrType.DATETIME: "a date-time",
    AttrType.STRING_LIST: "a list",
    AttrType.ENUM: "an enum",
}

KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_ENUM_VALUES = 1_000
MAX_LABEL_LENGTH = 200

RESERVED_KEYS = frozenset(
    {
        "and", "or", "not", "in", "segment", "contains", "any", "all", "none", "starts",
        "ends", "with", "matches", "is", "null", "between", "true", "false",
        "yes", "no", "today", "yesterday", "tomorrow", "attributes",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute of a kind: its rule key, display label and type."""

    key: str
    label: str
    type: AttrType
    values: tuple[str, ...] = ()
    builtin: bool = False
    derived: bool = False
    folded_values: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.type is AttrType.ENUM and not self.folded_values:
            object.__setattr__(self, "folded_values", {v.casefold(): v for v in self.values})

    @property
    def described(self) -> str:
        return self.type.described


def _builtin(
    key: str, label: str, type_: AttrType, *values: str, derived: bool = False
) -> Attribute:
    return Attribute(key, label, type_, tuple(values), builtin=True, derived=derived)


S, N, I, B = AttrType.STRING, AttrType.NUMBER, AttrType.INTEGER, AttrType.BOOLEAN  # noqa: E741
D, DT, L, E = AttrType.DATE, AttrType.DATETIME, AttrType.STRING_LIST, AttrType.ENUM

PRODUCT_BUILTINS: tuple[Attribute, ...] = (
    _builtin("id", "ID", S),
    _builtin("sku", "SKU", S),
    _builtin("name", "Name", S),
    _builtin("description", "Description", S),
    _builtin("brand", "Brand", S),
    _builtin("categories", "Categories", L),
    _builtin("tags", "Tags", L),
    _builtin("url", "URL", S),
    _builtin("image_url", "Image URL", S),
    _builtin("price", "Unit Price", N),
    _builtin("original_price", "Original Price", N),
    _builtin("discount_percent", "Discount %", N, derived=True),
    _builtin("stock", "Stock", I),
    _builtin("available", "Available", B),
    _builtin("rating_value", "Rating", N),
    _builtin("rating_count", "Rating Count", I),
    _builtin("published_at", "Published At", DT),
    _builtin("created_at", "Created At", DT),
    _builtin("updated_at", "Updated At", DT, derived=True),
    _builtin("units_sold", "Units Sold", I, derived=True),
    _builtin("revenue", "Revenue", N, derived=True),
    _builtin("last_sold_at", "Last Sold At", DT, derived=True),
)

CUSTOMER_BUILTINS: tuple[Attribute, ...] = (
    _builtin("id", "ID", S),
    _builtin("email", "Email", S),
    _builtin("first_name", "First Name", S),
    _builtin("last_name", "Last Name", S),
    _builtin("platform", "Platform", E, "ios", "android", "web"),
    _builtin("app_installed", "App Installed", B),
    _builtin("country", "Country", S),
    _builtin("city", "City", S),
    _builtin("language", "Language", S),
    _builtin("tags", "Tags", L),
    _builtin("accepts_marketing", "Accepts Marketing", B),
    _builtin("lifetime_value", "Life Time Value", N),
    _builtin("orders_count", "Orders Count", I),
    _builtin("average_order_value", "Average Order Value", N, derived=True),
    _builtin("first_order_at", "First Order At", DT),
    _builtin("last_order_at", "Last Order At", DT),
    _builtin("birthday", "Birthday", D),
    _builtin("created_at", "Created At", DT),
    _builtin("updated_at", "Updated At", DT, derived=True),
)

ORDER_BUILTINS: tuple[Attribute, ...] = (
    _builtin("id", "ID", S),
    _builtin("customer_id", "Customer ID", S),
    _builtin("placed_at", "Placed At", DT),
    _builtin("status", "Status", E, "placed", "cancelled", "refunded"),
    _builtin("channel", "Channel", S),
    _builtin("total", "Total", N),
    _builtin("updated_at", "Updated At", DT, derived=True),
)
"""An order's attributes; its ``lines`` are not attributes but rows of their own."""

BUILTINS: dict[Kind, tuple[Attribute, ...]] = {
    Kind.PRODUCT: PRODUCT_BUILTINS,
    Kind.CUSTOMER: CUSTOMER_BUILTINS,
    Kind.ORDER: ORDER_BUILTINS,
}

ORDER_DERIVED_KEYS: tuple[str, ...] = (
    "orders_count",
    "lifetime_value",
    "first_order_at",
    "last_order_at",
    "average_order_value",
)
"""Customer attributes that become derived from orders at a tenant's first order."""
SALES_KEYS: tuple[str, ...] = ("units_sold", "revenue", "last_sold_at")
ORDER_LINE_KEYS = frozenset({"lines", "product_id", "quantity", "unit_price"})
"""An order's lines and their fields: not attributes, and not keys an order attribute
may take."""
"""Product attributes always derived from orders."""


def declare(
    kind: Kind, key: str, type: AttrType | str, label: str = "", values: Iterable[str] = ()
) -> Attribute:
    """A custom attribute, checked: key shape, no shadowing, enum values."""
    type_ = _attr_type(type)
    _check_key(kind, key)
    label = (label or key.replace("_", " ").title()).strip()
    if len(label) > MAX_LABEL_LENGTH or not _printable(label):
        raise SchemaError(
            f"label of {key} must be printable text of at most {MAX_LABEL_LENGTH} characters"
        )
    enum_values = _enum_values(key, type_, tuple(values))
    return Attribute(key, label, type_, enum_values)


def _attr_type(type_: AttrType | str) -> AttrType:
    try:
        return AttrType(type_)
    except ValueError:
        allowed = ", ".join(t.value for t in AttrType)
        raise SchemaError(f"unknown attribute type {type_!r}; expected one of {allowed}") from None


def _check_key(kind: Kind, key: str) -> None:
    if not KEY_RE.fullmatch(key):
        raise SchemaError(
            f"attribute key {key!r} must start with a lowercase letter and hold only "
            "lowercase letters, digits and '_' (at most 64 characters)"
        )
    if key in RESERVED_KEYS:
        raise SchemaError(f"attribute key {key!r} is a reserved word of the rule language")
    if any(a.key == key for a in BUILTINS[kind]):
        raise SchemaError(f"attribute key {key!r} would shadow the built-in {kind} attribute")
    if kind is Kind.ORDER and key in ORDER_LINE_KEYS:
        raise SchemaError(f"attribute key {key!r} is a field of an order's lines")


def _enum_values(key: str, type_: AttrType, values: tuple[str, ...]) -> tuple[str, ...]:
    if type_ is not AttrType.ENUM:
        if values:
            raise SchemaError(f"only enum attributes take values; {key} is {type_.described}")
        return ()
    cleaned = tuple(v.strip() if isinstance(v, str) else v for v in values)
    if not cleaned or len(cleaned) > MAX_ENUM_VALUES:
        raise SchemaError(f"enum {key} needs between 1 and {MAX_ENUM_VALUES} values")
    if not all(isinstance(v, str) and v and len(v) <= 200 and _printable(v) for v in cleaned):
        raise SchemaError(
            f"enum values of {key} must be non-empty printable strings of at most 200 characters"
        )
    folded = [v.casefold() for v in cleaned]
    if len(set(folded)) != len(folded):
        raise SchemaError(f"enum values of {key} repeat (values are compared ignoring case)")
    return cleaned


def _printable(text: str) -> bool:
    return all(ch.isprintable() for ch in text)


@dataclass(frozen=True, slots=True)
class Schema:
    """The attributes of one kind for one tenant: built-ins first, then custom ones."""

    kind: Kind
    custom: tuple[Attribute, ...] = ()
    orders_derived: bool = False
    """The tenant has written orders: a customer's order values are derived, not written."""
    by_key: Mapping[str, Attribute] = field(default_factory=dict, compare=False, repr=False)
    writable: Mapping[str, Attribute] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    """Attributes a write may set, by exact key."""

    def __post_init__(self) -> None:
        builtins = BUILTINS[self.kind]
        if self.orders_derived and self.kind is Kind.CUSTOMER:
            builtins = tuple(
                replace(a, derived=True) if a.key in ORDER_DERIVED_KEYS else a for a in builtins
            )
        table = {a.key: a for a in (*builtins, *self.custom)}
        if len(table) != len(BUILTINS[self.kind]) + len(self.custom):
            raise SchemaError("custom attribute keys must be unique and not shadow built-ins")
        object.__setattr__(self, "by_key", table)
        writable = {k: a for k, a in table.items() if k != "id" and not a.derived}
        object.__setattr__(self, "writable", writable)

    def __iter__(self) -> Iterator[Attribute]:
        return iter(self.by_key.values())

    def get(self, key: str) -> Attribute | None:
        """The attribute with this key; keys match ignoring case."""
        return self.by_key.get(key) or self.by_key.get(key.lower())

    def with_custom(self, attribute: Attribute) -> Schema:
        return Schema(self.kind, (*self.custom, attribute), self.orders_derived)

    def without(self, key: str) -> Schema:
        return Schema(self.kind, tuple(a for a in self.custom if a.key != key), self.orders_derived)

    def with_orders(self) -> Schema:
        """This schema once the tenant has orders (order values become derived)."""
        return Schema(self.kind, self.custom, True)
