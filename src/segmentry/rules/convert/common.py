"""What every converter shares: refusing a construct, naming attributes, checking a condition.

A converter reads another format into segmentry's rule tree, or writes the tree
out. Either way a translation must mean exactly what segmentry means by the rule
(strings ignore case, a missing value fails every test but ``is null``, a
negative operator is the exact complement of its positive twin); whatever cannot
be translated so is refused with a :class:`~segmentry.errors.ConversionError`
naming the construct and where it is.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from segmentry.errors import ConversionError, RuleError
from segmentry.model.limits import MAX_DEPTH
from segmentry.model.schema import Attribute, Schema
from segmentry.rules.ast import And, AttrRef, Condition, Node, Not, Or, Value
from segmentry.rules.check import check
from segmentry.rules.operators import Each, Fn, Op

CUSTOM_PREFIX = "attributes."
"""Custom attributes sit under ``attributes`` in the API's entity documents, so a
format that names fields by path (JsonLogic's ``var``) may write ``attributes.x``."""


def refuse(construct: str, location: str, why: str = "") -> ConversionError:
    """The error for ``construct`` at ``location``; ``why`` says what to do instead."""
    message = f"{construct} cannot be converted" + (f": {why}" if why else "")
    return ConversionError(message, construct=construct, location=location)


def plain(
    node: Node, location: str, target: str, *, pairs: bool = False, each: bool = False
) -> None:
    """Refuse a condition on a function of an attribute (``count(tags)``) or a list
    quantifier (``ANY tags``, unless ``each``), or ``NOT`` of one, for a format that has
    no such thing; and, unless ``pairs``, one that compares two attributes."""
    inner = node.item if isinstance(node, Not) else node
    if not isinstance(inner, Condition):
        return
    if inner.fn is not None:
        raise refuse(inner.subject, location, f"{target} has no {inner.fn.value}()")
    if inner.each is not None and not each:
        raise refuse(inner.subject, location, f"{target} has no list quantifiers here yet")
    if isinstance(inner.value, AttrRef) and not pairs:
        construct = f"{inner.attr} {inner.op.text} {inner.value.attr}"
        raise refuse(construct, location, f"{target} cannot compare two attributes")


def attribute(name: object, schema: Schema, location: str) -> Attribute:
    """The attribute a field name or path names (``price``, ``attributes.loyalty``)."""
    if not isinstance(name, str) or not name:
        raise refuse(f"field {name!r}", location, "a field is an attribute key (a string)")
    key = name[len(CUSTOM_PREFIX) :] if name.startswith(CUSTOM_PREFIX) else name
    found = schema.get(key)
    if found is None or (name.startswith(CUSTOM_PREFIX) and found.builtin):
        close = difflib.get_close_matches(key.lower(), [a.key for a in schema], n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"{schema.kind} attributes are listed"
        raise refuse(f"field {name!r}", location, f"no such {schema.kind} attribute; {hint}")
    return found


def field_name(attr: Attribute) -> str:
    """How a path-based format names an attribute: custom ones under ``attributes.``."""
    return attr.key if attr.builtin else CUSTOM_PREFIX + attr.key


def condition(
    attr: Attribute,
    op: Op,
    value: Value,
    schema: Schema,
    location: str,
    *,
    fn: Fn | None = None,
    each: Each | None = None,
) -> Node:
    """A checked condition (of ``fn(attr)``, or of ``each`` item of a list); a type
    error is reported at ``location`` of the input."""
    try:
        return check(Condition(attr.key, op, value, fn=fn, each=each), schema)
    except RuleError as exc:
        problems = "; ".join(
            d.message + (f" ({d.hint})" if d.hint else "") for d in exc.diagnostics
        )
        raise ConversionError(problems, construct=op.value, location=location) from None


class Depth:
    """Counts how deep a reader is, so a rule nested past the language's limit is
    refused before Python's recursion limit is reached."""

    def __init__(self) -> None:
        self.level = 0

    def enter(self, location: str) -> None:
        self.level += 1
        if self.level > MAX_DEPTH:
            raise refuse(f"nesting deeper than {MAX_DEPTH} levels", location, "the limit of rules")

    def leave(self) -> None:
        self.level -= 1


def join(items: Sequence[Node], *, any_of: bool) -> Node:
    """``items`` joined by OR (``any_of``) or AND; one item stands alone."""
    if len(items) == 1:
        return items[0]
    return Or(tuple(items)) if any_of else And(tuple(items))
