"""The member log: a single-entity write appends its membership changes, events and
history points as one row instead of a member chunk, an event block and a history
point per segment it flips, and the tenant row counts the rows not yet folded into
those tables. Going back folds the log first.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from segmentry.store import members

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_log",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("log_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("entered", sa.LargeBinary(), nullable=False),
        sa.Column("exited", sa.LargeBinary(), nullable=False),
        sa.Column("blocks", sa.Text(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "log_id", name=op.f("pk_member_log")),
    )
    op.create_index(op.f("ix_member_log_tenant_id_seq"), "member_log", ["tenant_id", "seq"])
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(
            sa.Column("member_log_rows", sa.BigInteger(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    conn = op.get_bind()
    tenant_ids = conn.execute(sa.text("SELECT DISTINCT tenant_id FROM member_log")).scalars()
    for tenant_id in list(tenant_ids):
        members.fold(conn, tenant_id=int(tenant_id))
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("member_log_rows")
    op.drop_index("ix_member_log_tenant_id_seq", table_name="member_log")
    op.drop_table("member_log")
