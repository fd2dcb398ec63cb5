"""Rust ``regex`` syntax, for Polars ``str.contains`` in the columnar evaluator."""

from __future__ import annotations

from segmentry.rules.regex.emit import emit
from segmentry.rules.regex.emit_re2 import RE2
from segmentry.rules.regex.tree import Regex

RUST = RE2
"""Rust reads ``\\x{...}`` and ``(?s:.)`` as RE2 does, so it is written alike."""


def to_rust(node: Regex) -> str:
    """The pattern in Rust ``regex`` syntax, for Polars ``str.contains``."""
    return emit(node, RUST)
