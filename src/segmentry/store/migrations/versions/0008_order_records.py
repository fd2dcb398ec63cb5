"""Each order keeps its evaluation record (built-in and custom attributes, encoded as
an entity's are), which the SQL evaluator's behaviour conditions read. Filled for the
orders already stored, with each tenant's order attributes.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from segmentry.model.money import from_micros
from segmentry.model.orders import Order, OrderStatus, order_record
from segmentry.model.schema import Attribute, AttrType, Kind, Schema
from segmentry.model.temporal import from_micros as moment_of
from segmentry.model.values import format_instant

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BATCH = 1_000

orders = sa.table(
    "orders",
    sa.column("tenant_id", sa.Integer),
    sa.column("seq", sa.BigInteger),
    sa.column("id", sa.Text),
    sa.column("customer_id", sa.Text),
    sa.column("placed_at", sa.BigInteger),
    sa.column("status", sa.Text),
    sa.column("channel", sa.Text),
    sa.column("total_micros", sa.BigInteger),
    sa.column("attributes", JSON),
    sa.column("record", JSON),
)
attributes = sa.table(
    "attributes",
    sa.column("tenant_id", sa.Integer),
    sa.column("kind", sa.Text),
    sa.column("key", sa.Text),
    sa.column("label", sa.Text),
    sa.column("type", sa.Text),
    sa.column("enum_values", JSON),
    sa.column("position", sa.Integer),
)


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("record", JSON, nullable=True))
    conn = op.get_bind()
    tenants = conn.execute(sa.select(orders.c.tenant_id).distinct()).scalars().all()
    for tenant_id in tenants:
        schema = _order_schema(conn, tenant_id)
        for rows in _batches(conn, tenant_id):
            update = (
                orders.update()
                .where(orders.c.tenant_id == tenant_id, orders.c.seq == sa.bindparam("t_seq"))
                .values(record=sa.bindparam("v_record"))
            )
            conn.execute(
                update, [{"t_seq": row.seq, "v_record": _record(schema, row)} for row in rows]
            )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column("record", existing_type=JSON, nullable=False)


def _order_schema(conn: sa.Connection, tenant_id: int) -> Schema:
    query = (
        sa.select(attributes.c.key, attributes.c.label, attributes.c.type, attributes.c.enum_values)
        .where(attributes.c.tenant_id == tenant_id, attributes.c.kind == Kind.ORDER.value)
        .order_by(attributes.c.position)
    )
    custom = tuple(
        Attribute(row.key, row.label, AttrType(row.type), tuple(row.enum_values))
        for row in conn.execute(query)
    )
    return Schema(Kind.ORDER, custom)


def _batches(conn: sa.Connection, tenant_id: int) -> Iterator[list[Any]]:
    after = -1
    while True:
        query = (
            sa.select(orders)
            .where(orders.c.tenant_id == tenant_id, orders.c.seq > after)
            .order_by(orders.c.seq)
            .limit(BATCH)
        )
        rows = list(conn.execute(query))
        if not rows:
            return
        yield rows
        after = rows[-1].seq


def _record(schema: Schema, row: Any) -> dict[str, Any]:
    """The record the order write stores (``order_record``), from the stored columns."""
    order = Order(
        id=row.id,
        customer_id=row.customer_id,
        placed_at=format_instant(moment_of(row.placed_at)),
        status=OrderStatus(row.status),
        channel=row.channel,
        total=from_micros(row.total_micros),
        lines=(),
        attributes=dict(row.attributes),
    )
    return order_record(schema, order)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("record")
