"""From what a user sends (text or JSON) to a checked rule in all its forms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from segmentry.model.schema import Kind, Schema
from segmentry.rules.ast import Node
from segmentry.rules.check import SegmentInfo, check
from segmentry.rules.jsonform import Json, from_json, to_json
from segmentry.rules.parser import parse
from segmentry.rules.printer import format_rule

RuleSource = str | Mapping[str, Any]
"""A rule as a user sends it: its text, or its JSON form."""


@dataclass(frozen=True, slots=True)
class CheckedRule:
    """A rule that type-checks against a schema: its tree, canonical text and JSON."""

    tree: Node
    text: str
    json: Json


def read(source: RuleSource) -> tuple[Node, str]:
    """The tree of a rule and the text its spans point into.

    Text is parsed as written, so errors point into what the user typed; a
    JSON form is printed canonically and parsed back, so its errors point into
    that canonical text.
    """
    if isinstance(source, str):
        return parse(source), source
    text = format_rule(from_json(dict(source)))
    return parse(text), text


def prepare(
    source: RuleSource,
    schema: Schema,
    *,
    segments: Mapping[str, SegmentInfo] | None = None,
    own_code: str | None = None,
    schemas: Mapping[Kind, Schema] | None = None,
) -> CheckedRule:
    """Read and check a rule; a RuleError lists every problem with line and column.
    ``schemas`` are the tenant's schemas of every kind, for behaviour conditions."""
    node, text = read(source)
    checked = check(node, schema, text=text, segments=segments, own_code=own_code, schemas=schemas)
    return CheckedRule(checked, format_rule(checked), to_json(checked))
