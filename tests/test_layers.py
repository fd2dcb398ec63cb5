"""The package tree is the architecture: each layer imports only the layers below it.

rules (the pure rule language) · store (tables and queries, which may hand rules'
SQL to the database) · engine (the use cases) · synthetic (generated shops, built
through the engine) · api and web (ways in, side by side) · cli (the top, which
serves api and web together). ``errors`` is the one error root, open to all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "segmentry"
BELOW: dict[str, set[str]] = {
    "rules": set(),
    "store": {"rules"},
    "engine": {"rules", "store"},
    "synthetic": {"rules", "store", "engine"},
    "api": {"rules", "store", "engine"},
    "web": {"rules", "store", "engine"},
    "cli": {"rules", "store", "engine", "synthetic", "api", "web"},
}


def _imported_layers(module: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(), str(module))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found.update(n.split(".")[1] for n in names if n.startswith("segmentry."))
    return found - {"errors"}


@pytest.mark.parametrize("layer", sorted(BELOW))
def test_a_layer_imports_only_the_layers_below_it(layer: str) -> None:
    wrong = {
        str(module.relative_to(SRC)): sorted(_imported_layers(module) - BELOW[layer] - {layer})
        for module in (SRC / layer).rglob("*.py")
    }
    assert {m: w for m, w in wrong.items() if w} == {}


def test_every_package_has_its_place_and_is_a_regular_package() -> None:
    """A folder without ``__init__.py`` is left out of a built wheel by setuptools."""
    folders = {p.name for p in SRC.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    assert folders == set(BELOW)
    assert [f for f in sorted(folders) if not (SRC / f / "__init__.py").exists()] == []
