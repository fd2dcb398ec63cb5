"""Rules in other formats: one module per format, as sqlglot has one per dialect.

:func:`convert` reads a rule in one format into segmentry's checked rule tree
and writes it in another. The formats:

========================  ======  =======  =======================================
format                    read    write    module
========================  ======  =======  =======================================
``text``                  yes     yes      the rule language's text form
``json``                  yes     yes      the rule language's JSON form
``jsonlogic``             yes     yes      :mod:`.jsonlogic`
``querybuilder``          yes     yes      :mod:`.querybuilder` (react-querybuilder)
``shopify``               yes     yes      :mod:`.shopify` (customer rules)
``sql``                   no      yes      :mod:`.sql` (a ``WHERE`` clause, per dialect)
========================  ======  =======  =======================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, tzinfo
from typing import Any

from segmentry.errors import ConversionError
from segmentry.model.schema import Kind, Schema
from segmentry.rules.ast import Node, behaviours, segment_refs
from segmentry.rules.check import SegmentInfo, check
from segmentry.rules.convert import jsonlogic, querybuilder, shopify, shopify_write, sql
from segmentry.rules.convert.common import refuse
from segmentry.rules.jsonform import to_json
from segmentry.rules.load import read as read_ours
from segmentry.rules.operators import BY_ACT
from segmentry.rules.printer import format_rule

READERS: dict[str, Callable[[Any, Schema], Node]] = {
    "jsonlogic": jsonlogic.read,
    "querybuilder": querybuilder.read,
    "shopify": shopify.read,
}
WRITERS: dict[str, Callable[[Node, Schema], Any]] = {
    "text": lambda node, schema: format_rule(node),
    "json": lambda node, schema: to_json(node),
    "jsonlogic": jsonlogic.write,
    "querybuilder": querybuilder.write,
    "shopify": shopify_write.write,
}
INPUT_FORMATS = ("text", "json", *READERS)
OUTPUT_FORMATS = (*WRITERS, "sql")


def read_rule(
    rule: Any,
    *,
    source: str,
    schema: Schema,
    segments: Mapping[str, SegmentInfo] | None = None,
    schemas: Mapping[Kind, Schema] | None = None,
) -> Node:
    """The checked rule tree of ``rule`` written in format ``source``.

    ``segments`` is the tenant's segments, for ``IN SEGMENT``; without it every
    reference is taken as a segment of the kind it must be (conversion alone).
    ``schemas`` are the tenant's schemas of every kind, for behaviour conditions.
    """
    if source in ("text", "json"):
        if source == "text" and not isinstance(rule, str):
            raise refuse("a non-text rule", "rule", "format 'text' takes a string")
        if source == "json" and not isinstance(rule, dict):
            raise refuse("a non-object rule", "rule", "format 'json' takes an object")
        node, text = read_ours(rule)
        catalog = _catalog(node, schema, segments)
        return check(node, schema, text=text, segments=catalog, schemas=schemas)
    reader = READERS.get(source)
    if reader is None:
        raise refuse(f"input format {source!r}", "from", f"formats are {', '.join(INPUT_FORMATS)}")
    return reader(rule, schema)


def write_rule(
    node: Node, *, target: str, schema: Schema, dialect: str | None = None, tz: tzinfo = UTC
) -> Any:
    """A checked rule in format ``target`` (``dialect`` for ``sql``)."""
    if target == "sql":
        return sql.write(node, schema, dialect=dialect, tz=tz)
    writer = WRITERS.get(target)
    if writer is None:
        raise refuse(f"output format {target!r}", "to", f"formats are {', '.join(OUTPUT_FORMATS)}")
    if dialect is not None:
        raise refuse("a dialect", "dialect", "only format 'sql' takes a dialect")
    return writer(node, schema)


def convert(
    rule: Any,
    *,
    kind: Kind,
    source: str,
    target: str,
    dialect: str | None = None,
    schema: Schema | None = None,
    tz: tzinfo = UTC,
) -> Any:
    """``rule`` (in format ``source``) in format ``target``; a ConversionError or
    RuleError (422 in the API) for what cannot be translated exactly."""
    schema = schema or Schema(kind)
    if schema.kind is not kind:
        raise ConversionError("the schema is of another kind", construct="kind", location="kind")
    node = read_rule(rule, source=source, schema=schema)
    return write_rule(node, target=target, schema=schema, dialect=dialect, tz=tz)


def _catalog(
    node: Node, schema: Schema, segments: Mapping[str, SegmentInfo] | None
) -> Mapping[str, SegmentInfo]:
    if segments is not None:
        return segments
    catalog = {ref.code: SegmentInfo(schema.kind) for ref in segment_refs(node)}
    for call in behaviours(node):
        kind = Kind(BY_ACT[call.act].condition_kind)
        if call.where is not None:
            catalog.update({ref.code: SegmentInfo(kind) for ref in segment_refs(call.where)})
    return catalog
