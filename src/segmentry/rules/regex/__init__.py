"""``MATCHES``: a safe, portable subset of regular expressions.

``attr MATCHES 'pattern'`` is a regular-expression *search* that ignores case,
runs in linear time and answers exactly the same in Python (google-re2),
PostgreSQL (``~``) and Polars (Rust ``regex``). One tree, one emitter per
dialect (the way sqlglot works):

* :mod:`.parse` reads a pattern into the tree, or a :class:`PatternError`
  saying where and why it is outside the subset;
* :mod:`.tree` is the tree, and its folding to match case-folded values;
* :mod:`.cost` prices a tree for the engines and refuses one too dear;
* :mod:`.emit` is the one walk that writes a tree; :mod:`.emit_re2`,
  :mod:`.emit_postgres` and :mod:`.emit_rust` give each dialect's spelling;
* :mod:`.search` translates a pattern per dialect and compiles it for Python.

Case: values are matched after :func:`~segmentry.model.values.fold` (NFC, then
case-folded), and the pattern is folded to match: a literal becomes its fold,
possibly several characters (``ß`` -> ``ss``); a class keeps its characters
and gains their one-character folds, except that a range spanning more than
5,000 code points is kept exactly as written (``[A-Z]`` matches ``abc``, but
``[\\u0100-\\uffff]`` is not widened). So ``[ß]`` stays ``ß`` and never meets a
folded value (write ``ß`` or ``ss`` outside a class), and a pattern written
decomposed (``e`` + U+0301) does not meet NFC-composed values. No engine's
case-insensitive flag is used: their Unicode case tables differ.
"""

from segmentry.rules.regex.emit_postgres import to_postgres
from segmentry.rules.regex.emit_re2 import to_re2
from segmentry.rules.regex.emit_rust import to_rust
from segmentry.rules.regex.parse import PatternError, parse_pattern
from segmentry.rules.regex.search import Dialect, compile_search, translate
from segmentry.rules.regex.tree import (
    Alternation,
    AnyChar,
    CharClass,
    Concat,
    End,
    Group,
    Literal,
    Regex,
    Repeat,
    Start,
    fold_pattern,
)

__all__ = [
    "Alternation",
    "AnyChar",
    "CharClass",
    "Concat",
    "Dialect",
    "End",
    "Group",
    "Literal",
    "PatternError",
    "Regex",
    "Repeat",
    "Start",
    "compile_search",
    "fold_pattern",
    "parse_pattern",
    "to_postgres",
    "to_re2",
    "to_rust",
    "translate",
]
