"""Did-you-mean: the one way every message proposes the name a user probably meant.

It lives in model/, the bottom layer, so that value checks, the rule language
and the import readers all word their suggestions alike.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

CUTOFF = 0.6
"""How alike two names must be (difflib's ratio) for one to be proposed for the other."""
MAX_SUGGESTIONS = 10
"""The suggestions one message or request makes at most: past them, each costs a
comparison with every name, and a flood of unknown words must stay cheap to refuse."""


def suggest(
    word: str,
    choices: Iterable[str] | Mapping[str, str],
    *,
    quote: bool = True,
    made: int = 0,
    cap: int | None = None,
) -> str:
    """``did you mean 'x'?`` for the choice most like ``word``, or ``""`` when none is.

    ``choices`` may map each spelling compared to the name proposed for it (so a
    label can point to its key). ``quote`` puts the name in quotes, as for names
    a user types in quotes or brackets; operators are proposed bare. A caller
    that asks about many words passes ``made``, how many it has asked about (or
    reported) already, and ``cap``: once ``made`` reaches it, nothing more is
    proposed.
    """
    if cap is not None and made >= cap:
        return ""
    proposed = choices if isinstance(choices, Mapping) else None
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=CUTOFF)
    if not close:
        return ""
    name = proposed[close[0]] if proposed is not None else close[0]
    return f"did you mean {name!r}?" if quote else f"did you mean {name}?"
