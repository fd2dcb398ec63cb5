"""Entity values against the schema: clear errors naming entity, attribute, value and type."""

from __future__ import annotations

import sys
import unicodedata
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from segmentry.errors import SchemaError, ValidationError
from segmentry.model.schema import AttrType, Kind, Schema, declare
from segmentry.model.values import CONTROL_OR_SURROGATE, check_id, encode, fold, validate

CUSTOMERS = Schema(Kind.CUSTOMER, (declare(Kind.CUSTOMER, "loyalty_status", "enum",
                                           values=["Bronze", "Silver", "Gold"]),))  # fmt: skip
PRODUCTS = Schema(Kind.PRODUCT, (declare(Kind.PRODUCT, "launched", "date"),))


def test_a_valid_customer_is_normalised() -> None:
    doc = validate(
        CUSTOMERS,
        "42",
        {"email": "  ana@example.com ", "platform": "IOS", "loyalty_status": "gold",
         "tags": ["vip", "VIP", " new "], "lifetime_value": 10, "orders_count": 2.0,
         "last_order_at": "2024-03-01 10:00:00", "birthday": "1990-03-15", "country": ""},
        tz=ZoneInfo("Europe/Madrid"),
    )  # fmt: skip
    assert doc == {
        "id": "42", "email": "ana@example.com", "platform": "ios", "loyalty_status": "Gold",
        "tags": ["vip", "new"], "lifetime_value": 10, "orders_count": 2,
        "last_order_at": "2024-03-01T09:00:00Z", "birthday": "1990-03-15",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"price": "cheap"}, "product p1: price must be a number, got 'cheap'"),
        (
            {"price": float("nan")},
            "product p1: price must be a number, got nan (numbers must be finite)",
        ),
        ({"stock": 2.5}, "product p1: stock must be an integer, got 2.5 (not a whole number)"),
        ({"stock": 2**60}, "stock must be an integer"),
        ({"available": "yes"}, "product p1: available must be a boolean, got 'yes'"),
        ({"tags": "sale"}, "product p1: tags must be a list, got 'sale' (a list of strings)"),
        ({"tags": ["ok", 3]}, "tags must be a list, got ['ok', 3] (item 3 is not a string)"),
        (
            {"launched": "2024-02-30"},
            "launched must be a date, got '2024-02-30' (2024-02-30 is not a calendar date)",
        ),
        ({"created_at": "yesterday"}, "created_at must be a date-time, got 'yesterday'"),
        (
            {"name": "a\x00b"},
            "name must be a string, got 'a\\x00b' (strings cannot hold the NUL character)",
        ),
        ({"prce": 3}, "product p1: unknown attribute 'prce'; did you mean 'price'?"),
        (
            {"discount_percent": 3},
            "discount_percent is computed by segmentry and cannot be written",
        ),
        ({"id": "p2"}, "id 'p2' differs from the path id"),
    ],
)
def test_bad_values_name_entity_attribute_value_and_type(
    values: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        validate(PRODUCTS, "p1", values)
    assert message in caught.value.message


def test_only_the_first_unknown_keys_get_a_suggestion_the_rest_are_counted() -> None:
    values = {"prce": 1, "price": "x", **{f"k{n}": 0 for n in range(100_000)}, "brnd": 2}
    with pytest.raises(ValidationError) as caught:
        validate(PRODUCTS, "p1", values)
    assert caught.value.problems == (
        "product p1: unknown attribute 'prce'; did you mean 'price'?",
        "product p1: price must be a number, got 'x'",
        "product p1: unknown attribute 'k0'",
        "product p1: unknown attribute 'k1'",
        "product p1: and 99,999 more unknown attributes",
    )


def test_enum_values_outside_the_declaration_are_refused() -> None:
    expected = (
        r"loyalty_status must be an enum, got 'Platinum' \(expected one of Bronze, Silver, Gold\)"
    )
    with pytest.raises(ValidationError, match=expected):
        validate(CUSTOMERS, "1", {"loyalty_status": "Platinum"})


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        validate(PRODUCTS, "p1", {"price": "x", "stock": "y", "nope": 1})
    assert len(caught.value.problems) == 3


@pytest.mark.parametrize("bad", ["", "x" * 257, "a\nb", "tab\there", 5, None])
def test_malformed_ids_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError):
        check_id(bad)


def test_encoding_folds_strings_and_numbers_times() -> None:
    values = {"name": "Straße", "tags": ["B", "a", "A"], "launched": "1970-01-02",
              "created_at": datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)}  # fmt: skip
    doc = validate(PRODUCTS, "p", values)
    assert encode(PRODUCTS, doc) == {"id": "p", "name": "strasse", "tags": ("a", "b"),
                                     "launched": 1, "created_at": 1_000_000}  # fmt: skip
    assert fold("ǅ") == fold("ǆ") == fold("Ǆ")
    assert date(1970, 1, 2)


def test_custom_attributes_are_checked_when_declared() -> None:
    with pytest.raises(SchemaError, match="shadow the built-in"):
        declare(Kind.PRODUCT, "price", "number")
    with pytest.raises(SchemaError, match="reserved word"):
        declare(Kind.PRODUCT, "between", "string")
    with pytest.raises(SchemaError, match="unknown attribute type 'money'"):
        declare(Kind.PRODUCT, "cost", "money")
    with pytest.raises(SchemaError, match="repeat"):
        declare(Kind.CUSTOMER, "tier", "enum", values=["Gold", "gold"])
    with pytest.raises(SchemaError, match="only enum attributes take values"):
        declare(Kind.CUSTOMER, "tier", "string", values=["a"])
    with pytest.raises(SchemaError, match="must start with a lowercase letter"):
        declare(Kind.CUSTOMER, "Tier", "string")
    assert declare(Kind.CUSTOMER, "tier", AttrType.STRING).label == "Tier"


def test_builtin_attributes_have_the_spec_labels_and_types() -> None:
    products, customers = Schema(Kind.PRODUCT), Schema(Kind.CUSTOMER)
    assert products.by_key["price"].label == "Unit Price"
    assert customers.by_key["lifetime_value"].label == "Life Time Value"
    assert customers.by_key["platform"].values == ("ios", "android", "web")
    assert customers.by_key["birthday"].type is AttrType.DATE
    assert products.by_key["discount_percent"].derived
    assert customers.get("LIFETIME_VALUE") is customers.by_key["lifetime_value"]


def test_the_control_characters_of_ids_are_exactly_categories_cc_and_cs() -> None:
    every = (chr(point) for point in range(sys.maxunicode + 1))
    found = {ch for ch in every if CONTROL_OR_SURROGATE.fullmatch(ch)}
    expected = {
        chr(point)
        for point in range(sys.maxunicode + 1)
        if unicodedata.category(chr(point)) in ("Cc", "Cs")
    }
    assert found == expected
