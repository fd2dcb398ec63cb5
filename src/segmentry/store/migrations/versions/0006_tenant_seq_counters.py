"""Each kind's next entity seq joins the other counters on the tenant row: a write
takes it with the row it already holds instead of a ``MAX(seq)`` over the entities.
Filled from the entities already stored.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

KINDS = ("product", "customer")


def upgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        for kind in KINDS:
            batch_op.add_column(
                sa.Column(f"next_{kind}_seq", sa.BigInteger(), server_default="1", nullable=False)
            )
    tenants = sa.table(
        "tenants", sa.column("tenant_id"), *(sa.column(f"next_{k}_seq") for k in KINDS)
    )
    entities = sa.table("entities", sa.column("tenant_id"), sa.column("kind"), sa.column("seq"))
    for kind in KINDS:
        highest = (
            sa.select(sa.func.coalesce(sa.func.max(entities.c.seq), 0) + 1)
            .where(entities.c.tenant_id == tenants.c.tenant_id, entities.c.kind == kind)
            .scalar_subquery()
        )
        op.execute(tenants.update().values({f"next_{kind}_seq": highest}))


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        for kind in KINDS:
            batch_op.drop_column(f"next_{kind}_seq")
