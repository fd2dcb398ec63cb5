"""A database that cannot be opened is a DatabaseError that says why, never a driver trace."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmentry.engine.segmentry import Segmentry
from segmentry.errors import DatabaseError


def test_a_url_that_is_not_one_names_the_forms_that_work() -> None:
    with pytest.raises(DatabaseError, match=r"not a database URL: 'shop\.db'; use sqlite:///"):
        Segmentry("shop.db")


def test_a_file_in_a_missing_folder_says_it_cannot_be_opened(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'shop.db'}"
    with pytest.raises(DatabaseError, match=r"cannot open the database .*unable to open"):
        Segmentry(url)


def test_an_unreachable_server_is_named_without_its_password() -> None:
    with pytest.raises(DatabaseError) as caught:
        Segmentry("postgresql://ana:secret@127.0.0.1:1/shop")
    assert caught.value.code == "database-unavailable"
    assert "secret" not in caught.value.message
    assert "127.0.0.1:1/shop" in caught.value.message
    assert "\n" not in caught.value.message
