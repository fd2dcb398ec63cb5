"""Entity rows: the stored document, the encoded record, and the dense ``seq``.

A deleted entity keeps its row with ``doc`` and ``record`` set to NULL: the
seq keeps naming the same external id in the event feed, and the entity gets
it back if it is written again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from pyroaring import BitMap
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from segmentry.model.schema import Kind
from segmentry.store import driver
from segmentry.store.tables import entities

ID_BATCH = 500


@dataclass(frozen=True, slots=True)
class EntityRow:
    seq: int
    id: str
    doc: dict[str, Any] | None
    record: dict[str, Any] | None
    created_at: int
    updated_at: int

    @property
    def alive(self) -> bool:
        return self.doc is not None


def _entity(row: Any) -> EntityRow:
    """A row, with list values of the record as tuples (the shape ``encode`` gives)."""
    seq, entity_id, doc, record, created_at, updated_at = row
    if record is not None:
        record = {k: tuple(v) if isinstance(v, list) else v for k, v in record.items()}
    return EntityRow(seq, entity_id, doc, record, created_at, updated_at)


COLUMNS = (
    entities.c.seq,
    entities.c.id,
    entities.c.doc,
    entities.c.record,
    entities.c.created_at,
    entities.c.updated_at,
)


def _scope(tenant_id: int, kind: Kind) -> list[sa.ColumnElement[bool]]:
    return [entities.c.tenant_id == tenant_id, entities.c.kind == kind.value]


def rows_by_ids(
    conn: Connection, *, tenant_id: int, kind: Kind, ids: Iterable[str]
) -> dict[str, EntityRow]:
    """The rows (tombstones included) of the given external ids."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    if len(wanted) == 1:
        return _row_by_id(conn, tenant_id, kind, wanted[0])
    query = sa.select(*COLUMNS).where(*_scope(tenant_id, kind), _id_in(wanted, conn))
    return {row.id: _entity(row) for row in conn.execute(query)}


def _row_by_id(
    conn: Connection, tenant_id: int, kind: Kind, entity_id: str
) -> dict[str, EntityRow]:
    """:func:`rows_by_ids` of one id (every single-entity write), through the driver:
    SQLAlchemy's statement and result handling took longer than the read."""
    mark = driver.mark(conn)
    sql = (
        "SELECT seq, id, doc, record, created_at, updated_at FROM entities "
        f"WHERE tenant_id = {mark} AND kind = {mark} AND id = {mark}"
    )
    row = conn.exec_driver_sql(sql, (tenant_id, kind.value, entity_id)).one_or_none()
    if row is None:
        return {}
    seq, found_id, doc, record, created_at, updated_at = row
    return {found_id: _entity((seq, found_id, _json(doc), _json(record), created_at, updated_at))}


def _json(value: Any) -> Any:
    """A JSON column as the driver gives it: text on SQLite, already parsed on PostgreSQL."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


_SEQ_OF = sa.select(entities.c.seq).where(
    entities.c.tenant_id == sa.bindparam("tenant_id"),
    entities.c.kind == sa.bindparam("kind"),
    entities.c.id == sa.bindparam("id"),
)


def seq_of(conn: Connection, *, tenant_id: int, kind: Kind, entity_id: str) -> int | None:
    """The seq an id was given (a tombstone's too: the seq stays with the id for good)."""
    found = conn.execute(_SEQ_OF, {"tenant_id": tenant_id, "kind": kind.value, "id": entity_id})
    value = found.scalar_one_or_none()
    return int(value) if value is not None else None


def seqs_by_ids(
    conn: Connection, *, tenant_id: int, kind: Kind, ids: Iterable[str]
) -> dict[str, int]:
    """The seqs of the given external ids that have one (tombstones' too)."""
    wanted = list(dict.fromkeys(ids))
    out: dict[str, int] = {}
    for start in range(0, len(wanted), ID_BATCH):
        part = wanted[start : start + ID_BATCH]
        query = sa.select(entities.c.id, entities.c.seq).where(
            *_scope(tenant_id, kind), _id_in(part, conn)
        )
        out.update((entity_id, int(seq)) for entity_id, seq in conn.execute(query))
    return out


def _id_in(ids: list[str], conn: Connection) -> sa.ColumnElement[bool]:
    """``id`` is one of ``ids``, bound as one parameter: a JSON array on SQLite; on
    PostgreSQL a text array, whose length the planner knows (it guesses 100 rows for a
    set-returning function, and then read every entity of a small tenant to join them)."""
    if conn.dialect.name == "postgresql":
        return entities.c.id == sa.any_(sa.literal(ids, ARRAY(sa.Text)))
    return _IdIn(entities.c.id, sa.literal(orjson.dumps(ids).decode(), sa.Text))


def ids_by_seqs(
    conn: Connection, *, tenant_id: int, kind: Kind, seqs: Iterable[int]
) -> dict[int, str]:
    wanted = sorted(set(seqs))
    out: dict[int, str] = {}
    for start in range(0, len(wanted), ID_BATCH):
        part = wanted[start : start + ID_BATCH]
        query = sa.select(entities.c.seq, entities.c.id).where(
            *_scope(tenant_id, kind), entities.c.seq.in_(part)
        )
        out.update((int(seq), entity_id) for seq, entity_id in conn.execute(query))
    return out


def rows_by_seqs(
    conn: Connection, *, tenant_id: int, kind: Kind, seqs: Iterable[int]
) -> list[EntityRow]:
    wanted = sorted(set(seqs))
    out: list[EntityRow] = []
    for start in range(0, len(wanted), ID_BATCH):
        part = wanted[start : start + ID_BATCH]
        query = sa.select(*COLUMNS).where(*_scope(tenant_id, kind), entities.c.seq.in_(part))
        out.extend(_entity(row) for row in conn.execute(query.order_by(entities.c.seq)))
    return out


_DOCS_BY_SEQS = sa.select(entities.c.seq, entities.c.id, entities.c.doc).where(
    entities.c.tenant_id == sa.bindparam("tenant_id"),
    entities.c.kind == sa.bindparam("kind"),
    entities.c.seq.in_(sa.bindparam("seqs", expanding=True)),
)


def docs_by_seqs(
    conn: Connection, *, tenant_id: int, kind: Kind, seqs: Sequence[int]
) -> dict[int, tuple[str, dict[str, Any] | None]]:
    """The id and stored document (``None`` for a tombstone) of each of ``seqs``: a page
    of a listing, whose records the caller does not need. One statement built once (a
    page is read for every listing, and building it cost as much as running it)."""
    out: dict[int, tuple[str, dict[str, Any] | None]] = {}
    for start in range(0, len(seqs), ID_BATCH):
        params = {
            "tenant_id": tenant_id,
            "kind": kind.value,
            "seqs": seqs[start : start + ID_BATCH],
        }
        found = conn.execute(_DOCS_BY_SEQS, params)
        out.update((int(seq), (entity_id, doc)) for seq, entity_id, doc in found)
    return out


ROW = ("tenant_id", "kind", "seq", "id", "doc", "record", "created_at", "updated_at", "revision")
CHANGED = ("doc", "record", "created_at", "updated_at", "revision")
KEY = ("tenant_id", "kind", "seq")
TIMES = ("created_at", "updated_at", "revision")
# Validated documents and their records never hold NaN or infinities (orjson would
# write them as null); its JSON is compact UTF-8, like ``database.json_dumps``.
JSON_COLUMNS = ("doc", "record")


def insert_rows(
    conn: Connection, *, tenant_id: int, kind: Kind, rows: Sequence[dict[str, Any]]
) -> None:
    """Insert new rows: each dict has seq, id, doc, record, created_at, updated_at, revision."""
    kind_value, dumps = kind.value, orjson.dumps
    # One tuple per row built in one expression: an import inserts thousands.
    params = [
        (
            tenant_id,
            kind_value,
            r["seq"],
            r["id"],
            None if (doc := r["doc"]) is None else dumps(doc).decode(),
            None if (record := r["record"]) is None else dumps(record).decode(),
            r["created_at"],
            r["updated_at"],
            r["revision"],
        )
        for r in rows
    ]
    driver.insert(conn, "entities", ROW, params, json=JSON_COLUMNS)


class NewRows(NamedTuple):
    """Rows of new entities as columns, all written at ``at`` in ``revision``."""

    seqs: Sequence[int]
    ids: Sequence[str]
    docs: Sequence[dict[str, Any]]
    records: Sequence[dict[str, Any]]
    at: int
    revision: int


def insert_new(conn: Connection, *, tenant_id: int, kind: Kind, rows: NewRows) -> None:
    """Insert new rows given as columns: the rows' tuples are zipped from the columns,
    their JSON written by mapping ``orjson`` over them, with no Python step per row."""
    docs = map(bytes.decode, map(orjson.dumps, rows.docs))
    records = map(bytes.decode, map(orjson.dumps, rows.records))
    at = repeat(rows.at)
    params = list(
        zip(
            repeat(tenant_id),
            repeat(kind.value),
            rows.seqs,
            rows.ids,
            docs,
            records,
            at,
            at,
            repeat(rows.revision),
        )
    )
    driver.insert(conn, "entities", ROW, params, json=JSON_COLUMNS)


def update_rows(
    conn: Connection, *, tenant_id: int, kind: Kind, rows: Sequence[dict[str, Any]]
) -> None:
    """Rewrite existing rows by seq (doc, record, updated_at, revision; NULL doc deletes)."""
    params = [(*_jsons(r), *map(r.get, TIMES), tenant_id, kind.value, r["seq"]) for r in rows]
    driver.update(conn, "entities", CHANGED, KEY, params, json=JSON_COLUMNS)


def _jsons(row: dict[str, Any]) -> tuple[str | None, str | None]:
    doc, record = row["doc"], row["record"]
    return (
        None if doc is None else orjson.dumps(doc).decode(),
        None if record is None else orjson.dumps(record).decode(),
    )


def scan(
    conn: Connection,
    *,
    tenant_id: int,
    kind: Kind,
    where: sa.ColumnElement[bool] | None = None,
    after_seq: int = 0,
    limit: int | None = None,
) -> Iterator[EntityRow]:
    """Living entities in seq order, optionally filtered by a SQL clause on ``entities``."""
    query = sa.select(*COLUMNS).where(
        *_scope(tenant_id, kind), entities.c.doc.is_not(None), entities.c.seq > after_seq
    )
    if where is not None:
        query = query.where(where)
    query = query.order_by(entities.c.seq)
    if limit is not None:
        query = query.limit(limit)
    for row in conn.execute(query):
        yield _entity(row)


def max_seq(conn: Connection, *, tenant_id: int, kind: Kind) -> int:
    """The highest seq given to an entity of ``kind`` (0 if none was)."""
    query = sa.select(sa.func.max(entities.c.seq)).where(*_scope(tenant_id, kind))
    return int(conn.execute(query).scalar() or 0)


SEQ_KEY = "_seq"
"""The key a loaded record's line carries its seq under (attribute keys start with a
letter, so it names no attribute)."""


def records(
    conn: Connection, *, tenant_id: int, kind: Kind, up_to: int, chunk: int = 25_000
) -> Iterator[bytes]:
    """The encoded records of every living entity with a seq up to ``up_to``, as
    newline-delimited JSON in UTF-8, each record with its seq added first under
    :data:`SEQ_KEY` (in no particular order), ``chunk`` seqs at a time: what loading a
    tenant's columnar snapshot reads. The database writes and joins the lines, and
    hands them over as bytes, so no row becomes a Python object and the text is
    neither decoded nor encoded again on its way to the JSON parser."""
    mark = driver.mark(conn)
    text = "CAST(record AS TEXT)"
    line = (
        f"'{{\"{SEQ_KEY}\":' || CAST(seq AS TEXT) || "
        f"CASE WHEN {text} = '{{}}' THEN '}}' ELSE ',' || substr({text}, 2) END"
    )
    if conn.dialect.name == "sqlite":
        joined = f"CAST(group_concat({line}, {mark}) AS BLOB)"
    else:
        joined = f"convert_to(string_agg({line}, {mark}), 'UTF8')"
    query = (
        f"SELECT {joined} FROM entities WHERE tenant_id = {mark} "
        f"AND kind = {mark} AND seq > {mark} AND seq <= {mark} AND doc IS NOT NULL"
    )
    for start in range(0, up_to, chunk):
        params = ("\n", tenant_id, kind.value, start, start + chunk)
        lines = conn.exec_driver_sql(query, params).scalar()
        if lines:
            yield bytes(lines)


class _SeqIn(FunctionElement[bool]):
    """``seq`` is one of a set bound as one parameter (a JSON array on SQLite,
    a BIGINT[] on PostgreSQL), so large member sets cost one bind, not one each.

    Untyped on purpose, as is :class:`_IdIn`: typed Boolean, SQLAlchemy writes the
    clause as ``(… IN …) = 1`` on SQLite, and SQLite then cannot look the values up
    in an index: it tests every entity of the tenant."""

    name = "segmentry_seq_in"
    inherit_cache = True


class _IdIn(FunctionElement[bool]):
    """On SQLite, ``id`` is one of a JSON array of ids bound as one parameter: a batch
    looks up thousands of ids with one statement, not one bound value each."""

    name = "segmentry_id_in"
    inherit_cache = True


@compiles(_SeqIn, "sqlite")
@compiles(_IdIn, "sqlite")
def _in_json_sqlite(element: _SeqIn | _IdIn, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = (compiler.process(c, **kw) for c in element.clauses)
    return f"({column} IN (SELECT value FROM json_each({values})))"


@compiles(_SeqIn, "postgresql")
def _seq_in_postgres(element: _SeqIn, compiler: SQLCompiler, **kw: Any) -> str:
    # A subquery over unnest is planned as a hashed set built once; "= ANY(cast)"
    # would re-parse the whole array text for every row.
    seq, values = (compiler.process(c, **kw) for c in element.clauses)
    return f"({seq} IN (SELECT unnest(CAST(CAST({values} AS TEXT) AS BIGINT[]))))"


def seq_in(
    seqs: BitMap, dialect: str, column: sa.ColumnElement[Any] = entities.c.seq
) -> sa.ColumnElement[bool]:
    """A clause true for the entities whose seq (``column``: the entities table's, or
    that of an alias of it) is in ``seqs``."""
    if not seqs:
        return sa.false()
    if dialect == "postgresql":
        text = "{" + ",".join(map(str, seqs)) + "}"
    else:
        text = orjson.dumps(list(seqs)).decode()
    return _SeqIn(column, sa.literal(text, sa.Text))
