"""The one error root of segmentry.

Every error the library raises on purpose derives from :class:`SegmentryError`.
Each carries a stable ``code`` (the API turns it into a problem+json ``type``)
and a human message; subclasses add structured details.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class SegmentryError(Exception):
    """Root of every error segmentry raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DatabaseError(SegmentryError):
    """The database cannot be opened or reached, or its URL is not one we serve."""

    code = "database-unavailable"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a rule: where it is, what is wrong, how to fix it.

    ``line`` and ``column`` are 1-based; ``end_column`` is exclusive and on the
    same line as ``column`` when the problem spans one line.
    """

    message: str
    line: int
    column: int
    hint: str = ""
    offset: int = 0
    length: int = 1

    def excerpt(self, text: str) -> tuple[str, str]:
        """The line of ``text`` the problem is on and a caret line under the problem.
        A long line is cut to ``EXCERPT`` characters either side of the problem (marked
        with ``…``): a rule may be one line of 65,536 characters or more, and
        repeating it whole made a page hundreds of thousands of pixels wide."""
        lines = text.splitlines() or [""]
        source = lines[self.line - 1] if 0 < self.line <= len(lines) else ""
        at = self.column - 1
        width = max(1, min(self.length, len(source) - at, EXCERPT))
        start, end = max(0, at - EXCERPT), min(len(source), at + width + EXCERPT)
        before, after = ("…" if start > 0 else ""), ("…" if end < len(source) else "")
        return before + source[start:end] + after, " " * (len(before) + at - start) + "^" * width

    def render(self, text: str) -> str:
        """The message with the offending line and a caret under the problem."""
        source, caret = self.excerpt(text)
        out = f"line {self.line}, column {self.column}: {self.message}\n  {source}\n  {caret}"
        return f"{out}\n  hint: {self.hint}" if self.hint else out


EXCERPT = 60
"""How many characters of a rule's line a problem is shown with, either side of it."""


class RuleError(SegmentryError):
    """A rule could not be parsed or does not type-check; carries every problem found."""

    code = "invalid-rule"

    def __init__(self, diagnostics: Sequence[Diagnostic], text: str = "") -> None:
        if not diagnostics:
            raise ValueError("a RuleError needs at least one diagnostic")
        self.diagnostics = tuple(diagnostics)
        self.text = text
        first = self.diagnostics[0]
        more = len(self.diagnostics) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(f"line {first.line}, column {first.column}: {first.message}{suffix}")

    def render(self) -> str:
        """Every problem with its caret, for terminals and logs."""
        return "\n".join(d.render(self.text) for d in self.diagnostics)


class ConversionError(SegmentryError):
    """A rule in another format holds a construct the target cannot express (or that
    segmentry does not have); ``location`` says where in the input: a JSON path such as
    ``rule.and[1]``, or a line and column of a text."""

    code = "unconvertible-rule"

    def __init__(self, message: str, *, construct: str, location: str) -> None:
        super().__init__(f"at {location}: {message}")
        self.construct = construct
        self.location = location


class ValidationError(SegmentryError):
    """An entity value (or another input) does not fit its declared type."""

    code = "invalid-value"

    def __init__(self, message: str, *, field: str = "", problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.field = field
        self.problems = tuple(problems) or (message,)


class SchemaError(SegmentryError):
    """An attribute declaration is not acceptable (bad key, shadowing, bad values)."""

    code = "invalid-attribute"


class NotFoundError(SegmentryError):
    """The tenant has no such object (another tenant's objects are not found either)."""

    code = "not-found"


class ConflictError(SegmentryError):
    """The object changed since the version the caller based its edit on."""

    code = "version-conflict"

    def __init__(self, message: str, *, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


class AlreadyExistsError(SegmentryError):
    code = "already-exists"


class InUseError(SegmentryError):
    """Refused because something relies on the object (uses, rules that refer to it)."""

    code = "in-use"

    def __init__(self, message: str, *, users: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.users = users


class UnknownIdsError(SegmentryError):
    """Some ids name no entity; nothing was changed."""

    code = "unknown-ids"

    def __init__(self, message: str, *, ids: list[str]) -> None:
        super().__init__(message)
        self.ids = ids


class AuthenticationError(SegmentryError):
    code = "unauthenticated"


class IdempotencyKeyReusedError(SegmentryError):
    """An idempotency key already names another request (another body, path or query)."""

    code = "idempotency-key-reused"


class IdempotencyKeyInFlightError(SegmentryError):
    """The request first made with this idempotency key is still running (an import)."""

    code = "idempotency-key-in-flight"

    def __init__(self, message: str, *, import_id: str) -> None:
        super().__init__(message)
        self.import_id = import_id
