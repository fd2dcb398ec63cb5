"""A pattern as each engine runs it: translated per dialect, and compiled for Python."""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable

import re2

from segmentry.rules.regex.emit_postgres import to_postgres
from segmentry.rules.regex.emit_re2 import to_re2
from segmentry.rules.regex.emit_rust import to_rust
from segmentry.rules.regex.parse import PatternError, parse_pattern
from segmentry.rules.regex.tree import Regex, fold_pattern

Dialect = typing.Literal["re2", "postgres", "rust"]
GENERATORS: dict[Dialect, Callable[[Regex], str]] = {
    "re2": to_re2,
    "postgres": to_postgres,
    "rust": to_rust,
}


@functools.lru_cache(maxsize=1024)
def translate(pattern: str, dialect: Dialect) -> str:
    """``pattern`` parsed, folded and written in ``dialect``; raises PatternError."""
    if dialect not in GENERATORS:
        raise ValueError(f"unknown regex dialect {dialect!r}; use one of {sorted(GENERATORS)}")
    return GENERATORS[dialect](fold_pattern(parse_pattern(pattern)))


@functools.lru_cache(maxsize=512)
def compile_search(pattern: str) -> Callable[[str], bool]:
    """A case-insensitive search for ``pattern``; it takes a value already passed through fold()."""
    options = re2.Options()
    options.log_errors = False
    try:
        compiled = re2.compile(translate(pattern, "re2"), options)
    except re2.error as exc:  # the cost limits are meant to make this unreachable
        hint = "simplify the pattern"
        raise PatternError("the pattern is too complex", 0, max(len(pattern), 1), hint) from exc

    def search(value: str) -> bool:
        return compiled.search(value) is not None

    return search
