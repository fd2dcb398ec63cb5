"""docs/library.md stays true: its worked example runs, and it names the whole API."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from segmentry import errors
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.errors import DatabaseError

DOC = Path(__file__).resolve().parents[2] / "docs" / "library.md"
FENCE = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)
EXAMPLE_URL = "sqlite:///shop.db"
# Public for the engine's own layers (the HTTP API), not part of the library's API.
INTERNAL = {"transaction", "view", "now"}


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def example() -> tuple[str, int]:
    """The one python block of the page and the line it starts on."""
    text = doc_text()
    blocks = list(FENCE.finditer(text))
    assert len(blocks) == 1, "docs/library.md must hold exactly one ```python block"
    return blocks[0].group(1), text.count("\n", 0, blocks[0].start(1))


def test_the_worked_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source, first_line = example()
    assert EXAMPLE_URL in source
    database = tmp_path / "shop.db"
    source = source.replace(EXAMPLE_URL, f"sqlite:///{database}")
    monkeypatch.chdir(tmp_path)  # anything else the example writes lands here too
    # Padded so a failing line is reported with its line number in the page.
    code = compile("\n" * first_line + source, str(DOC), "exec")
    exec(code, {"__name__": "library_doc_example"})
    assert database.is_file()


def public_methods(cls: type) -> set[str]:
    return {
        name
        for name, member in vars(cls).items()
        if not name.startswith("_")
        and (inspect.isfunction(member) or isinstance(member, classmethod))
    }


@pytest.mark.parametrize("cls", [Segmentry, Shop])
def test_every_public_call_is_documented(cls: type) -> None:
    text = doc_text()
    missing = sorted(
        name for name in public_methods(cls) - INTERNAL if not re.search(rf"\b{name}\(", text)
    )
    assert not missing, f"{cls.__name__} calls missing from docs/library.md: {missing}"


def test_every_error_is_documented() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass)] + [DatabaseError]
    raised = {c for c in classes if issubclass(c, errors.SegmentryError)}
    text = doc_text()
    missing = sorted(c.__name__ for c in raised if f"`{c.__name__}`" not in text)
    assert not missing, f"errors missing from docs/library.md: {missing}"
    codes = sorted(c.code for c in raised - {errors.SegmentryError} if f"`{c.code}`" not in text)
    assert not codes, f"error codes missing from docs/library.md: {codes}"
