"""Text cells of the CSV files segmentry writes, safe to open in a spreadsheet.

Ids and attribute values come from shops' data, and a spreadsheet runs a cell
that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) as a
formula: a customer named ``=HYPERLINK(...)`` would become a link, or worse, in
the file a marketer downloads. Such a cell is written with a leading ``'``,
which spreadsheets show as text and do not display; so that the escape can
always be undone, a cell whose leading quotes are followed by one of those
characters gets one more quote. segmentry's own CSV readers (imports, uploaded
id lists) take one quote off again, so a file it wrote reads back to the same
values.
"""

from __future__ import annotations

FORMULA_STARTS = frozenset("=+-@\t\r")
"""The first characters that make a spreadsheet read a cell as a formula (OWASP's list)."""
QUOTE = "'"


def neutralised(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows as text (see the module)."""
    return QUOTE + text if _escaped_form(text) else text


def restored(text: str) -> str:
    """A cell of a CSV file as the value it stands for: :func:`neutralised` undone."""
    return text[1:] if text.startswith(QUOTE) and _escaped_form(text) else text


def _escaped_form(text: str) -> bool:
    """Whether ``text`` is a formula start behind any number of quotes (none included)."""
    return text.lstrip(QUOTE)[:1] in FORMULA_STARTS  # "" (all quotes, or empty) is not
