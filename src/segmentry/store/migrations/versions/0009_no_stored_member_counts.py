"""Segments no longer store their member count: nothing read it (a count is the size
of the segment's member bitmap, loaded from the member chunks, and the history keeps
each count as it changed), and keeping it up to date rewrote a segment row for
every segment a single write moved, about a quarter of the pages that write
committed.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("segments") as batch:
        batch.drop_column("member_count")


def downgrade() -> None:
    with op.batch_alter_table("segments") as batch:
        batch.add_column(
            sa.Column("member_count", sa.BigInteger(), server_default="0", nullable=False)
        )
