"""RE2 syntax (google-re2, in Python and in SQLite's REGEXP).

A character is ``\\x{HHHH}``; any character, newline included, is ``(?s:.)``.
"""

from __future__ import annotations

from segmentry.rules.regex.emit import Syntax, emit
from segmentry.rules.regex.tree import Regex

RE2 = Syntax(lambda code: f"\\x{{{code:X}}}", "(?s:.)")


def to_re2(node: Regex) -> str:
    """The pattern in RE2 syntax (google-re2, Python)."""
    return emit(node, RE2)
