"""SQL constructs of the SQL evaluator, with one rendering per dialect.

Entity records live in a JSON column (JSON text on SQLite, JSONB on
PostgreSQL) holding the *encoded* values of :mod:`segmentry.model.values`.
Each construct here reads or tests one attribute of that column; SQLAlchemy
renders it through the ``@compiles`` function of the connection's dialect.
Any other dialect fails to compile with a clear error rather than guessing.
The functions SQLite lacks are given to its connections in Python
(:mod:`segmentry.match.sqlite_functions`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from segmentry.match.sqlite_functions import SQLITE_MONTH_DAY, SQLITE_REGEXP


class _Construct(FunctionElement[Any]):
    inherit_cache = True

    def args(self, compiler: SQLCompiler, **kw: Any) -> list[str]:
        return [compiler.process(clause, **kw) for clause in self.clauses]


class JsonText(_Construct):
    """The string value of ``doc[key]`` (NULL when absent)."""

    type = Text()
    name = "segmentry_json_text"
    inherit_cache = True


class JsonNumber(_Construct):
    """The numeric value of ``doc[key]`` as a 64-bit float."""

    type = Float()
    name = "segmentry_json_number"
    inherit_cache = True


class JsonInteger(_Construct):
    """The integer value of ``doc[key]`` (day numbers, microseconds)."""

    type = BigInteger()
    name = "segmentry_json_integer"
    inherit_cache = True


class JsonBoolean(_Construct):
    type = Boolean()
    name = "segmentry_json_boolean"
    inherit_cache = True


class JsonHas(_Construct):
    """``doc`` has ``key``."""

    type = Boolean()
    name = "segmentry_json_has"
    inherit_cache = True


class ListHas(_Construct):
    """The list ``doc[key]`` holds ``item``: ``(doc, key, item)``."""

    type = Boolean()
    name = "segmentry_list_has"
    inherit_cache = True


class ListHasAny(_Construct):
    """The list ``doc[key]`` holds one of the items: ``(doc, key, item, ...)``."""

    type = Boolean()
    name = "segmentry_list_has_any"
    inherit_cache = True


class ListHasAll(_Construct):
    """The list ``doc[key]`` holds every item: ``(doc, key, count, item, ...)``."""

    type = Boolean()
    name = "segmentry_list_has_all"
    inherit_cache = True


class ListLength(_Construct):
    """The number of items of the list ``doc[key]`` (NULL when absent): ``(doc, key)``."""

    type = BigInteger()
    name = "segmentry_list_length"
    inherit_cache = True


class ItemExists(_Construct):
    """Some item of the list ``doc[key]`` passes a test of ``ITEM``: ``(doc, key, test)``."""

    type = Boolean()
    name = "segmentry_item_exists"
    inherit_cache = True


ITEM = "each_item.value"
"""The column an item test reads inside :class:`ItemExists`."""


class CodePointOrder(_Construct):
    """A string ordered by code point, as Python orders it: ``(value)``. SQLite's
    default BINARY collation already is; PostgreSQL's database collation may not be."""

    type = Text()
    name = "segmentry_code_point_order"
    inherit_cache = True


class StrContains(_Construct):
    type = Boolean()
    name = "segmentry_str_contains"
    inherit_cache = True


class StrSuffix(_Construct):
    """``(value, suffix, length)``: the value ends with the suffix."""

    type = Boolean()
    name = "segmentry_str_suffix"
    inherit_cache = True


class StrPrefix(_Construct):
    """``(value, prefix, length)``: the value starts with the prefix."""

    type = Boolean()
    name = "segmentry_str_prefix"
    inherit_cache = True


class RegexSearch(_Construct):
    """``(value, source, postgres)``: the pattern matches within the value.

    Both spellings are bound parameters (the source for SQLite's RE2 function,
    the translated ARE pattern for PostgreSQL), so cached statements stay exact.
    """

    type = Boolean()
    name = "segmentry_regex_search"
    inherit_cache = True


class DayMonthDay(_Construct):
    """The month-day (``month * 100 + day``) of a date's day number: ``(value)``."""

    type = BigInteger()
    name = "segmentry_day_month_day"
    inherit_cache = True


class MomentMonthDay(_Construct):
    """The month-day of a moment (microseconds) on a zone's wall clock: ``(value, zone)``."""

    type = BigInteger()
    name = "segmentry_moment_month_day"
    inherit_cache = True


# -- SQLite ----------------------------------------------------------------------


def _sqlite_path(key_sql: str) -> str:
    return f"'$.\"' || {key_sql} || '\"'"


@compiles(JsonText, "sqlite")
@compiles(JsonNumber, "sqlite")
@compiles(JsonInteger, "sqlite")
@compiles(JsonBoolean, "sqlite")
def _sqlite_value(element: _Construct, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key = element.args(compiler, **kw)
    return f"json_extract({doc}, {_sqlite_path(key)})"


@compiles(JsonHas, "sqlite")
def _sqlite_has(element: JsonHas, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key = element.args(compiler, **kw)
    return f"(json_type({doc}, {_sqlite_path(key)}) IS NOT NULL)"


def _sqlite_each(doc: str, key: str) -> str:
    return f"json_each({doc}, {_sqlite_path(key)})"


@compiles(ListHas, "sqlite")
def _sqlite_list_has(element: ListHas, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key, item = element.args(compiler, **kw)
    return f"EXISTS (SELECT 1 FROM {_sqlite_each(doc, key)} WHERE value = {item})"


@compiles(ListHasAny, "sqlite")
def _sqlite_list_any(element: ListHasAny, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key, *items = element.args(compiler, **kw)
    return f"EXISTS (SELECT 1 FROM {_sqlite_each(doc, key)} WHERE value IN ({', '.join(items)}))"


@compiles(ListHasAll, "sqlite")
def _sqlite_list_all(element: ListHasAll, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored lists hold no duplicates, so counting the matches counts the distinct items.
    doc, key, count, *items = element.args(compiler, **kw)
    return (
        f"((SELECT count(*) FROM {_sqlite_each(doc, key)} "
        f"WHERE value IN ({', '.join(items)})) = {count})"
    )


@compiles(ListLength, "sqlite")
def _sqlite_list_length(element: ListLength, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key = element.args(compiler, **kw)
    return f"json_array_length({doc}, {_sqlite_path(key)})"


@compiles(ItemExists, "sqlite")
def _sqlite_item_exists(element: ItemExists, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key, test = element.args(compiler, **kw)
    return f"EXISTS (SELECT 1 FROM {_sqlite_each(doc, key)} AS each_item WHERE {test})"


@compiles(CodePointOrder, "sqlite")
def _sqlite_code_points(element: CodePointOrder, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = element.args(compiler, **kw)
    return value


@compiles(StrContains, "sqlite")
def _sqlite_contains(element: StrContains, compiler: SQLCompiler, **kw: Any) -> str:
    value, text = element.args(compiler, **kw)
    return f"(instr({value}, {text}) > 0)"


@compiles(StrPrefix, "sqlite")
def _sqlite_prefix(element: StrPrefix, compiler: SQLCompiler, **kw: Any) -> str:
    value, text, length = element.args(compiler, **kw)
    return f"(substr({value}, 1, {length}) = {text})"


@compiles(StrSuffix, "sqlite")
def _sqlite_suffix(element: StrSuffix, compiler: SQLCompiler, **kw: Any) -> str:
    value, text, length = element.args(compiler, **kw)
    return f"(substr({value}, -{length}) = {text})"


@compiles(RegexSearch, "sqlite")
def _sqlite_regex(element: RegexSearch, compiler: SQLCompiler, **kw: Any) -> str:
    value, source, _ = element.args(compiler, **kw)
    return f"{SQLITE_REGEXP}({source}, {value})"


@compiles(DayMonthDay, "sqlite")
def _sqlite_day_month_day(element: DayMonthDay, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = element.args(compiler, **kw)
    return f"CAST(strftime('%m%d', {value} * 86400, 'unixepoch') AS INTEGER)"


@compiles(MomentMonthDay, "sqlite")
def _sqlite_moment_month_day(element: MomentMonthDay, compiler: SQLCompiler, **kw: Any) -> str:
    value, zone = element.args(compiler, **kw)
    return f"{SQLITE_MONTH_DAY}({value}, {zone})"


# -- PostgreSQL --------------------------------------------------------------------

PG_CASTS = {JsonNumber: "DOUBLE PRECISION", JsonInteger: "BIGINT", JsonBoolean: "BOOLEAN"}


@compiles(JsonText, "postgresql")
@compiles(JsonNumber, "postgresql")
@compiles(JsonInteger, "postgresql")
@compiles(JsonBoolean, "postgresql")
def _pg_value(element: _Construct, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key = element.args(compiler, **kw)
    text = f"({doc} ->> CAST({key} AS TEXT))"
    cast = PG_CASTS.get(type(element))
    return f"CAST({text} AS {cast})" if cast else text


@compiles(JsonHas, "postgresql")
def _pg_has(element: JsonHas, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key = element.args(compiler, **kw)
    return f"({doc} ? CAST({key} AS TEXT))"


@compiles(ListHas, "postgresql")
def _pg_list_has(element: ListHas, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key, item = element.args(compiler, **kw)
    return f"(({doc} -> CAST({key} AS TEXT)) ? CAST({item} AS TEXT))"


@compiles(ListHasAny, "postgresql")
def _pg_list_any(element: ListHasAny, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key, *items = element.args(compiler, **kw)
    array = ", ".join(f"CAST({i} AS TEXT)" for i in items)
    return f"(({doc} -> CAST({key} AS TEXT)) ?| ARRAY[{array}])"


@compiles(ListHasAll, "postgresql")
def _pg_list_all(element: ListHasAll, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key, _count, *items = element.args(compiler, **kw)
    array = ", ".join(f"CAST({i} AS TEXT)" for i in items)
    return f"(({doc} -> CAST({key} AS TEXT)) ?& ARRAY[{array}])"


@compiles(ListLength, "postgresql")
def _pg_list_length(element: ListLength, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key = element.args(compiler, **kw)
    return f"jsonb_array_length({doc} -> CAST({key} AS TEXT))"


@compiles(ItemExists, "postgresql")
def _pg_item_exists(element: ItemExists, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key, test = element.args(compiler, **kw)
    items = f"jsonb_array_elements_text({doc} -> CAST({key} AS TEXT)) AS each_item(value)"
    return f"EXISTS (SELECT 1 FROM {items} WHERE {test})"


@compiles(CodePointOrder, "postgresql")
def _pg_code_points(element: CodePointOrder, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = element.args(compiler, **kw)
    return f'({value} COLLATE "C")'


@compiles(StrContains, "postgresql")
def _pg_contains(element: StrContains, compiler: SQLCompiler, **kw: Any) -> str:
    value, text = element.args(compiler, **kw)
    return f"(strpos({value}, CAST({text} AS TEXT)) > 0)"


@compiles(StrPrefix, "postgresql")
def _pg_prefix(element: StrPrefix, compiler: SQLCompiler, **kw: Any) -> str:
    value, text, length = element.args(compiler, **kw)
    return f"(left({value}, {length}) = CAST({text} AS TEXT))"


@compiles(StrSuffix, "postgresql")
def _pg_suffix(element: StrSuffix, compiler: SQLCompiler, **kw: Any) -> str:
    value, text, length = element.args(compiler, **kw)
    return f"(right({value}, {length}) = CAST({text} AS TEXT))"


@compiles(RegexSearch, "postgresql")
def _pg_regex(element: RegexSearch, compiler: SQLCompiler, **kw: Any) -> str:
    value, _, translated = element.args(compiler, **kw)
    return f"({value} ~ CAST({translated} AS TEXT))"


@compiles(DayMonthDay, "postgresql")
def _pg_day_month_day(element: DayMonthDay, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = element.args(compiler, **kw)
    return f"CAST(to_char(DATE '1970-01-01' + CAST({value} AS INTEGER), 'MMDD') AS INTEGER)"


@compiles(MomentMonthDay, "postgresql")
def _pg_moment_month_day(element: MomentMonthDay, compiler: SQLCompiler, **kw: Any) -> str:
    # Whole seconds and the rest apart: a double (what interval arithmetic multiplies
    # by) is exact only to 2**53, fewer microseconds than a year 9998 moment has.
    value, zone = element.args(compiler, **kw)
    moment = (
        f"(TIMESTAMPTZ '1970-01-01 00:00:00+00' + ({value} / 1000000) * INTERVAL '1 second'"
        f" + mod({value}, 1000000) * INTERVAL '1 microsecond')"
    )
    return f"CAST(to_char(timezone(CAST({zone} AS TEXT), {moment}), 'MMDD') AS INTEGER)"


@compiles(_Construct)
def _unsupported(element: _Construct, compiler: SQLCompiler, **kw: Any) -> str:
    raise NotImplementedError(
        f"segmentry's SQL evaluator supports SQLite and PostgreSQL, not {compiler.dialect.name}"
    )
