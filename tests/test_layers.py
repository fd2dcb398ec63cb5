"""The package tree is the architecture: each layer imports only the layers below it.

model (kinds, schemas, values) · rules (the language alone) · match (who matches:
evaluators, snapshot, rule index) and store (tables and queries) side by side ·
engine (the use cases) · synthetic (generated shops, built through the engine) ·
api and web (ways in, side by side) · cli (the top, which serves api and web
together). ``errors`` is the one error root, open to all.

Every import form counts: ``import segmentry.x``, ``from segmentry.x import y``,
``from segmentry import x``, relative imports, and modules named by a string to
``importlib.import_module``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "segmentry"
BELOW: dict[str, set[str]] = {
    "model": set(),
    "rules": {"model"},
    "match": {"model", "rules"},
    "store": {"model"},
    "engine": {"model", "rules", "match", "store"},
    "synthetic": {"model", "rules", "match", "store", "engine"},
    "api": {"model", "rules", "match", "store", "engine"},
    "web": {"model", "rules", "match", "store", "engine"},
    "cli": {"model", "rules", "match", "store", "engine", "synthetic", "api", "web"},
}
OPEN_TO_ALL = {"errors"}


def _absolute(module: Path, node: ast.ImportFrom) -> str:
    """The dotted module an ``ImportFrom`` names, relative levels resolved."""
    if node.level == 0:
        return node.module or ""
    package = ["segmentry", *module.relative_to(SRC).parent.parts]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imported_modules(module: Path, source: str | None = None) -> set[str]:
    """Every ``segmentry`` module ``module`` (or ``source`` read as if it stood there)
    imports, in any form."""
    found: set[str] = set()
    text = module.read_text() if source is None else source
    for node in ast.walk(ast.parse(text, str(module))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            if source == "segmentry":  # from segmentry import store
                found.update(f"segmentry.{a.name}" for a in node.names)
            else:
                found.add(source)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return {m for m in found if m == "segmentry" or m.startswith("segmentry.")}


def _layers(modules: set[str]) -> set[str]:
    return {m.split(".")[1] for m in modules if "." in m} - OPEN_TO_ALL


@pytest.mark.parametrize("layer", sorted(BELOW))
def test_a_layer_imports_only_the_layers_below_it(layer: str) -> None:
    wrong = {
        str(module.relative_to(SRC)): sorted(
            _layers(imported_modules(module)) - BELOW[layer] - {layer}
        )
        for module in (SRC / layer).rglob("*.py")
    }
    assert {m: w for m, w in wrong.items() if w} == {}


def test_no_layer_imports_the_package_root_to_reach_around_the_rules() -> None:
    """``import segmentry`` would hand a module every layer through attributes."""
    bare = [
        str(m.relative_to(SRC))
        for m in SRC.rglob("*.py")
        if "segmentry" in imported_modules(m) and m.name != "__init__.py"
    ]
    assert bare == []


@pytest.mark.parametrize(
    ("source", "where", "expected"),
    [
        ("import segmentry.store.tables", "rules/x.py", {"store"}),
        ("from segmentry.store import tables", "rules/x.py", {"store"}),
        ("from segmentry import store, errors", "rules/x.py", {"store"}),
        ("from ..store import tables", "rules/x.py", {"store"}),
        ("from .. import store", "rules/x.py", {"store"}),
        ("from . import parser", "rules/x.py", {"rules"}),
        ("from ...engine import shop", "rules/regex/x.py", {"engine"}),
        ("importlib.import_module('segmentry.web.app')", "rules/x.py", {"web"}),
        ("import_module('segmentry.api')", "rules/x.py", {"api"}),
    ],
)
def test_every_import_form_is_seen(source: str, where: str, expected: set[str]) -> None:
    """The checker itself: a checker blind to an import form would pass wrongly."""
    assert _layers(imported_modules(SRC / where, source)) == expected


def test_every_package_has_its_place_and_is_a_regular_package() -> None:
    """A folder without ``__init__.py`` is left out of a built wheel by setuptools."""
    folders = {p.name for p in SRC.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    assert folders == set(BELOW)
    packages = {p for p in SRC.rglob("*") if p.is_dir() and any(p.glob("*.py"))}
    assert sorted(str(p) for p in packages if not (p / "__init__.py").exists()) == []
