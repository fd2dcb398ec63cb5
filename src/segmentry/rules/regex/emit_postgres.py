"""PostgreSQL ARE syntax, for ``value ~ pattern``.

Characters are fixed-width ``\\uHHHH`` / ``\\UHHHHHHHH`` escapes (its ``\\x``
eats any number of hex digits). PostgreSQL is not newline-sensitive by
default, so its ``.`` already matches a newline.
"""

from __future__ import annotations

from segmentry.rules.regex.emit import Syntax, emit
from segmentry.rules.regex.tree import Regex

POSTGRES = Syntax(lambda c: f"\\u{c:04X}" if c <= 0xFFFF else f"\\U{c:08X}", ".")


def to_postgres(node: Regex) -> str:
    """The pattern in PostgreSQL ARE syntax, for ``value ~ pattern``."""
    return emit(node, POSTGRES)
