"""The initial schema: tenants, keys, attributes, entities, segments, memberships, events.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "key_id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_api_keys_key_id")),
    )
    op.create_table(
        "attributes",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("enum_values", JSON, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "kind", "key", name=op.f("pk_attributes")),
    )
    op.create_table(
        "entities",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("doc", JSON, nullable=True),
        sa.Column("record", JSON, nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "kind", "seq", name=op.f("pk_entities")),
        sa.UniqueConstraint("tenant_id", "kind", "id", name=op.f("uq_entities_tenant_id_kind_id")),
    )
    op.create_table(
        "event_blocks",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("seg_id", sa.Integer(), nullable=False),
        sa.Column("segment_code", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("members", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "first_id", name=op.f("pk_event_blocks")),
    )
    with op.batch_alter_table("event_blocks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_blocks_tenant_id_last_id"), ["tenant_id", "last_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_event_blocks_tenant_id_seg_id_last_id"),
            ["tenant_id", "seg_id", "last_id"],
            unique=False,
        )

    op.create_table(
        "fixed_members",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("seg_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("added_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "seg_id", "seq", name=op.f("pk_fixed_members")),
    )
    op.create_table(
        "member_chunks",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("seg_id", sa.Integer(), nullable=False),
        sa.Column("chunk", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("members", sa.LargeBinary(), nullable=False),
        sa.Column("since", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "seg_id", "chunk", name=op.f("pk_member_chunks")),
    )
    op.create_table(
        "segment_history",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("seg_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("member_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "seg_id", "at", name=op.f("pk_segment_history")),
    )
    op.create_table(
        "segment_uses",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("seg_id", sa.Integer(), nullable=False),
        sa.Column("use_id", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "seg_id", "use_id", name=op.f("pk_segment_uses")),
    )
    op.create_table(
        "segment_versions",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("seg_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("by_key", sa.Text(), nullable=True),
        sa.Column("definition", JSON, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "seg_id", "version", name=op.f("pk_segment_versions")),
    )
    op.create_table(
        "segments",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("seg_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("rule", JSON, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("member_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "seg_id", name=op.f("pk_segments")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_segments_tenant_id_code")),
    )
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("time_zone", sa.Text(), server_default="UTC", nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("next_event_id", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("next_seg_id", sa.Integer(), server_default="1", nullable=False),
        sa.Column("swept_at", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenants")),
    )


def downgrade() -> None:
    op.drop_table("tenants")
    op.drop_table("segments")
    op.drop_table("segment_versions")
    op.drop_table("segment_uses")
    op.drop_table("segment_history")
    op.drop_table("member_chunks")
    op.drop_table("fixed_members")
    with op.batch_alter_table("event_blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_blocks_tenant_id_seg_id_last_id"))
        batch_op.drop_index(batch_op.f("ix_event_blocks_tenant_id_last_id"))

    op.drop_table("event_blocks")
    op.drop_table("entities")
    op.drop_table("attributes")
    op.drop_table("api_keys")
