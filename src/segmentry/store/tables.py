"""The tables. Every key starts with ``tenant_id`` so a tenant's rows can live
on one node of a sharded PostgreSQL (Citus distributes by that column).

Times are microseconds since the epoch (``BigInteger``): exact, sortable and
the same on SQLite and PostgreSQL. Entities and segments carry a dense
integer (``seq``, ``seg_id``) next to their external identifier, because
memberships and events are stored as compressed bitmaps of those integers.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = sa.JSON().with_variant(JSONB(), "postgresql")
# Python None must be SQL NULL, not JSON 'null': a deleted entity's row is
# recognised by ``doc IS NULL``.
NullableJson = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
Micros = sa.BigInteger
Blob = sa.LargeBinary

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("time_zone", sa.Text, nullable=False, server_default="UTC"),
    sa.Column("created_at", Micros, nullable=False),
    # Bumped by every write transaction: in-memory state tagged with an older
    # revision is stale and reloads (several processes may share a database).
    sa.Column("revision", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("next_event_id", sa.BigInteger, nullable=False, server_default="1"),
    sa.Column("next_seg_id", sa.Integer, nullable=False, server_default="1"),
    # The next seq of each kind's entities (never reused: a deleted entity keeps its row).
    sa.Column("next_product_seq", sa.BigInteger, nullable=False, server_default="1"),
    sa.Column("next_customer_seq", sa.BigInteger, nullable=False, server_default="1"),
    # Time-based memberships are exact as of this moment (the last sweep).
    sa.Column("swept_at", Micros, nullable=False, server_default="0"),
    # Rows of the member log not yet folded into the member chunks.
    sa.Column("member_log_rows", sa.BigInteger, nullable=False, server_default="0"),
    # Set by the tenant's first order: from then on customers' order values are
    # derived from orders (NULL: never had an order).
    sa.Column("orders_since", Micros),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("key_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("secret_hash", sa.Text, nullable=False),
    sa.Column("created_at", Micros, nullable=False),
    sa.Column("revoked_at", Micros),
    sa.UniqueConstraint("key_id"),
)

attributes = sa.Table(
    "attributes",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("enum_values", Json, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("created_at", Micros, nullable=False),
)

entities = sa.Table(
    "entities",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("id", sa.Text, nullable=False),
    # NULL once deleted: the row stays as a tombstone so the seq keeps its id
    # (events name entities by seq) and a re-created entity gets it back.
    sa.Column("doc", NullableJson),
    sa.Column("record", NullableJson),
    sa.Column("created_at", Micros, nullable=False),
    sa.Column("updated_at", Micros, nullable=False),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("tenant_id", "kind", "id"),
)

segments = sa.Table(
    "segments",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("seg_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("rule", NullableJson),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", Micros, nullable=False),
    sa.Column("updated_at", Micros, nullable=False),
    sa.UniqueConstraint("tenant_id", "code"),
)

segment_versions = sa.Table(
    "segment_versions",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("seg_id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("at", Micros, nullable=False),
    sa.Column("by_key", sa.Text),
    sa.Column("definition", Json, nullable=False),
)

member_chunks = sa.Table(
    "member_chunks",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("seg_id", sa.Integer, primary_key=True),
    sa.Column("chunk", sa.BigInteger, primary_key=True, autoincrement=False),
    # A roaring bitmap of the member seqs in [chunk * 4096, (chunk + 1) * 4096),
    # then, aligned with them in ascending order, when each entered (int64).
    sa.Column("members", Blob, nullable=False),
    sa.Column("since", Blob, nullable=False),
)

# One entity's membership changes of one write, with the write's events and history
# points, not yet folded into member_chunks, event_blocks and segment_history: what
# those hold is the tables with these rows applied in log_id order.
member_log = sa.Table(
    "member_log",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    # The write's first event id (its events are log_id .. last_id, one block each).
    sa.Column("log_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("last_id", sa.BigInteger, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("at", Micros, nullable=False),
    # Roaring bitmaps of the seg_ids the entity entered and those it left.
    sa.Column("entered", Blob, nullable=False),
    sa.Column("exited", Blob, nullable=False),
    # JSON: the events' blocks in id order, [seg_id, code, change, cause] each, and the
    # history points, [seg_id, member_count] each.
    sa.Column("blocks", sa.Text, nullable=False),
    sa.Column("counts", sa.Text, nullable=False),
    sa.Index(None, "tenant_id", "seq"),
)

fixed_members = sa.Table(
    "fixed_members",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("seg_id", sa.Integer, primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("added_at", Micros, nullable=False),
)

event_blocks = sa.Table(
    "event_blocks",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    # Events first_id .. first_id + count - 1, one per member in ascending seq order.
    sa.Column("first_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("last_id", sa.BigInteger, nullable=False),
    sa.Column("seg_id", sa.Integer, nullable=False),
    sa.Column("segment_code", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("change", sa.Text, nullable=False),
    sa.Column("cause", sa.Text, nullable=False),
    sa.Column("at", Micros, nullable=False),
    sa.Column("members", Blob, nullable=False),
    sa.Index(None, "tenant_id", "last_id"),
    sa.Index(None, "tenant_id", "seg_id", "last_id"),
)

segment_history = sa.Table(
    "segment_history",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("seg_id", sa.Integer, primary_key=True),
    sa.Column("at", Micros, primary_key=True, autoincrement=False),
    sa.Column("member_count", sa.BigInteger, nullable=False),
)

segment_uses = sa.Table(
    "segment_uses",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("seg_id", sa.Integer, primary_key=True),
    sa.Column("use_id", sa.Text, primary_key=True),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("url", sa.Text),
    sa.Column("created_at", Micros, nullable=False),
)

imports = sa.Table(
    "imports",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("import_id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("format", sa.Text, nullable=False),
    # running, then done or failed; a crash leaves "running" with the lines
    # of every committed batch counted, so what was applied stays clear, and
    # the lease below tells it from an import still at work.
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("lines", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("applied", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rejected", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("last_line", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("applied_lines", Json, nullable=False),
    sa.Column("errors", Json, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("started_at", Micros, nullable=False),
    sa.Column("finished_at", Micros),
    # Renewed by every batch a running import commits (NULL: rows from before
    # leases, whose lease is counted from started_at).
    sa.Column("alive_until", Micros),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    # What the request asked for (the API hashes method, path, query and body):
    # the same key with another fingerprint is a client bug, not a retry.
    sa.Column("fingerprint", sa.Text, nullable=False),
    # What the write answered, kept in the transaction of the write it guards.
    sa.Column("answer", Json, nullable=False),
    sa.Column("created_at", Micros, nullable=False),
    sa.Index(None, "tenant_id", "created_at"),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    # A dense integer per tenant, like an entity's seq, for bitmaps of orders.
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("id", sa.Text, nullable=False),
    sa.Column("customer_id", sa.Text),  # NULL: a guest checkout
    sa.Column("placed_at", Micros, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("channel", sa.Text),
    # Money in whole millionths: exact sums in SQL on both back ends.
    sa.Column("total_micros", sa.BigInteger, nullable=False),
    sa.Column("line_count", sa.Integer, nullable=False),
    # The order's custom attributes (validated), as stored.
    sa.Column("attributes", Json, nullable=False),
    # Its evaluation record (built-in and custom attributes, encoded as an entity's):
    # what the SQL evaluator's order conditions read.
    sa.Column("record", Json, nullable=False),
    sa.Column("created_at", Micros, nullable=False),
    sa.Column("updated_at", Micros, nullable=False),
    sa.UniqueConstraint("tenant_id", "id"),
    # A customer's orders, newest first (read backwards).
    sa.Index(None, "tenant_id", "customer_id", "placed_at"),
    # Orders by time: the ones a moving window bound passed.
    sa.Index(None, "tenant_id", "placed_at"),
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("order_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("line", sa.Integer, primary_key=True, autoincrement=False),
    # Kept by id: a product that does not exist yet is matched once it does.
    sa.Column("product_id", sa.Text, nullable=False),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.Column("unit_price_micros", sa.BigInteger, nullable=False),
    # Copied from the order so that "buyers of a product in a window" reads one index.
    sa.Column("customer_id", sa.Text),
    sa.Column("placed_at", Micros, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Index(None, "tenant_id", "product_id", "placed_at"),
)

# Running sums of placed orders, kept by every order write with the change's delta
# (so an order costs work for its own lines, not for a customer's or product's
# history); a customer's or product's derived values are read from here.
customer_order_sums = sa.Table(
    "customer_order_sums",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.Text, primary_key=True),
    sa.Column("orders_count", sa.BigInteger, nullable=False),
    sa.Column("total_micros", sa.BigInteger, nullable=False),
    sa.Column("first_at", Micros, nullable=False),
    sa.Column("last_at", Micros, nullable=False),
)

product_sales = sa.Table(
    "product_sales",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("product_id", sa.Text, primary_key=True),
    sa.Column("units", sa.BigInteger, nullable=False),
    sa.Column("revenue_micros", sa.BigInteger, nullable=False),
    sa.Column("last_at", Micros, nullable=False),
)

webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("webhook_id", sa.Text, primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    # The segments' seg_ids (so a rename keeps the webhook), or NULL for every segment.
    sa.Column("segments", NullableJson),
    sa.Column("kinds", Json, nullable=False),
    sa.Column("changes", Json, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("disabled_reason", sa.Text),
    # Kept in the clear: it signs every delivery. The previous one signs too until
    # previous_until (a rotation's overlap).
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("previous_secret", sa.Text),
    sa.Column("previous_until", Micros),
    # The id of the last event of the feed this webhook is done with.
    sa.Column("position", sa.BigInteger, nullable=False),
    # Bumped by a replay or a re-enable: a delivery started before it must not move
    # the position it set.
    sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failing_since", Micros),
    sa.Column("next_attempt_at", Micros, nullable=False, server_default="0"),
    sa.Column("last_success_at", Micros),
    # Who is delivering (one process at a time), and until when its claim holds.
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_until", Micros),
    sa.Column("created_at", Micros, nullable=False),
    sa.Column("updated_at", Micros, nullable=False),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("webhook_id", sa.Text, primary_key=True),
    sa.Column("delivery_id", sa.Text, primary_key=True),
    sa.Column("at", Micros, nullable=False),
    sa.Column("message_id", sa.Text, nullable=False),
    sa.Column("first_event", sa.BigInteger, nullable=False),
    sa.Column("last_event", sa.BigInteger, nullable=False),
    sa.Column("events", sa.Integer, nullable=False),
    sa.Column("status", sa.Integer),  # the HTTP status; NULL when no answer came
    sa.Column("duration_us", Micros, nullable=False),
    sa.Column("error", sa.Text),
    sa.Index(None, "tenant_id", "webhook_id", "at"),
)

nats_positions = sa.Table(
    "nats_positions",
    metadata,
    sa.Column("tenant_id", sa.Integer, primary_key=True),
    sa.Column("stream", sa.Text, primary_key=True),
    # The id of the last event JetStream acknowledged for this tenant.
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("updated_at", Micros, nullable=False),
)
