"""Orders and their lines; the tenant's switch to order-derived customer values.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("orders_since", sa.BigInteger(), nullable=True))
    op.create_table(
        "orders",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=True),
        sa.Column("placed_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=True),
        sa.Column("total_micros", sa.BigInteger(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("attributes", Json, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "seq", name=op.f("pk_orders")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_orders_tenant_id_id")),
    )
    op.create_index(
        op.f("ix_orders_tenant_id_customer_id_placed_at"),
        "orders",
        ["tenant_id", "customer_id", "placed_at"],
    )
    op.create_index(op.f("ix_orders_tenant_id_placed_at"), "orders", ["tenant_id", "placed_at"])
    op.create_table(
        "order_lines",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("order_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("line", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("product_id", sa.Text(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("unit_price_micros", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=True),
        sa.Column("placed_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "order_seq", "line", name=op.f("pk_order_lines")),
    )
    op.create_index(
        op.f("ix_order_lines_tenant_id_product_id_placed_at"),
        "order_lines",
        ["tenant_id", "product_id", "placed_at"],
    )
    op.create_table(
        "customer_order_sums",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("orders_count", sa.BigInteger(), nullable=False),
        sa.Column("total_micros", sa.BigInteger(), nullable=False),
        sa.Column("first_at", sa.BigInteger(), nullable=False),
        sa.Column("last_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name=op.f("pk_customer_order_sums")),
    )
    op.create_table(
        "product_sales",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Text(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("revenue_micros", sa.BigInteger(), nullable=False),
        sa.Column("last_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "product_id", name=op.f("pk_product_sales")),
    )


def downgrade() -> None:
    op.drop_table("product_sales")
    op.drop_table("customer_order_sums")
    op.drop_table("order_lines")
    op.drop_table("orders")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("orders_since")
