"""Bounds on rules, so that no input can exhaust time, memory or the stack.

Every limit is enforced where the input first arrives (lexer, parser, JSON
reader, type checker) and reported as a rule error with a position.
"""

MAX_TEXT_LENGTH = 65_536
"""Characters in a rule's text form."""

MAX_DEPTH = 64
"""Nesting of groups, ``NOT`` and parentheses. Every pass over a tree recurses
at most this deep, far below Python's recursion limit."""

MAX_CONDITIONS = 1_000
"""Conditions and segment references in one rule."""

MAX_LIST_ITEMS = 1_000
"""Values in one ``IN (...)`` or ``CONTAINS ANY/ALL (...)`` list."""

MAX_STRING_LENGTH = 4_096
"""Characters in one string literal."""

MAX_PATTERN_LENGTH = 1_000
"""Characters in one ``MATCHES`` pattern."""

MAX_REPEAT = 100
"""Largest bound of a counted repetition ``{m,n}`` in a pattern."""

MAX_PATTERN_SIZE = 1_000
"""Largest size of a pattern once counted repetitions are expanded."""

MAX_SAFE_INTEGER = 2**53
"""Numbers compare as 64-bit floats in every evaluator; integers beyond this
would lose exactness, so literals and integer values are kept within it."""
