"""A batch's lists of strings, built from each distinct item cleaned once, are exactly
what the attribute's coercer makes of each list alone: the same stored lists (the
same spellings, in the same order), ``None`` for lists with nothing left, and a
refusal for the lists it refuses."""

from __future__ import annotations

from datetime import UTC

from hypothesis import given, settings
from hypothesis import strategies as st

from segmentry.model.batch_lists import string_lists
from segmentry.model.schema import Attribute, AttrType
from segmentry.model.values import COERCERS, MAX_ITEM_LENGTH, MAX_LIST_LENGTH, InvalidValueError
from tests.conftest import examples

TAGS = Attribute("tags", "Tags", AttrType.STRING_LIST)
ITEMS = ["vip", "VIP", " vip ", "Vip", "", "  ", "x\x00y", "\ud800", "stra\u00dfe", "STRASSE",
         "e\u0301", "\u00e9", "a" * MAX_ITEM_LENGTH, " " + "a" * MAX_ITEM_LENGTH,
         "a" * (MAX_ITEM_LENGTH + 1), "\u0130", "i\u0307"]  # fmt: skip


def _alone(key: tuple[str, ...]) -> object:
    try:
        return COERCERS[AttrType.STRING_LIST](TAGS, list(key), UTC)
    except InvalidValueError:
        return InvalidValueError


items = st.one_of(st.sampled_from(ITEMS), st.text(max_size=4))
lists = st.lists(items, max_size=6).map(tuple)


@settings(max_examples=examples(400, 100))
@given(keys=st.lists(lists, max_size=12))
def test_lists_built_from_cleaned_items_are_the_coercer_s_own(keys: list[tuple[str, ...]]) -> None:
    stored = string_lists(TAGS, dict.fromkeys(keys), UTC)
    assert list(stored) == list(dict.fromkeys(keys))
    for key, value in stored.items():
        assert repr(value) == repr(_alone(key)), key


def test_a_list_too_long_is_refused_as_the_coercer_refuses_it() -> None:
    long = ("a",) * (MAX_LIST_LENGTH + 1)
    assert string_lists(TAGS, [long, ("a",) * MAX_LIST_LENGTH], UTC) == {
        long: InvalidValueError,
        ("a",) * MAX_LIST_LENGTH: ["a"],
    }
