"""A real database table of encoded records, to run the SQL evaluator against."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.pool import StaticPool

from segmentry.match.eval_sql import compile_sql
from segmentry.match.sqlite_functions import register_sqlite_functions
from segmentry.model.schema import Schema
from segmentry.model.temporal import EvalContext
from segmentry.rules.ast import Node

metadata = sa.MetaData()
entities = sa.Table(
    "rule_fixture_entities",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("doc", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
)
members = sa.Table(
    "rule_fixture_members",
    metadata,
    sa.Column("segment", sa.Text, primary_key=True),
    sa.Column("entity_id", sa.Text, primary_key=True),
)


def sqlite_engine() -> sa.Engine:
    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    sa.event.listen(engine, "connect", lambda conn, _: register_sqlite_functions(conn))
    return engine


class SqlHarness:
    """Loads records into a real table and answers which ids a rule selects."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        metadata.drop_all(engine)
        metadata.create_all(engine)

    def load(self, records: Iterable[tuple[str, Mapping[str, Any]]],
             memberships: Mapping[str, Iterable[str]] | None = None) -> None:  # fmt: skip
        rows = [{"id": i, "doc": dict(r)} for i, r in records]
        links = [{"segment": code, "entity_id": e}
                 for code, ids in (memberships or {}).items() for e in ids]  # fmt: skip
        with self.engine.begin() as conn:
            conn.execute(members.delete())
            conn.execute(entities.delete())
            if rows:
                conn.execute(entities.insert(), rows)
            if links:
                conn.execute(members.insert(), links)

    def segment_clause(self, code: str, key: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        """Memberships are kept by id here: ``key`` is the id column."""
        return sa.exists().where(members.c.segment == code, members.c.entity_id == key)

    def select(self, node: Node, schema: Schema, ctx: EvalContext) -> set[str]:
        clause = compile_sql(
            node, schema, ctx, doc=entities.c.doc, seq=entities.c.id, segment=self.segment_clause
        )
        with self.engine.connect() as conn:
            return set(conn.scalars(sa.select(entities.c.id).where(clause)))
