"""Tenants, their API keys, and the per-tenant counters kept on the tenant row."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from segmentry.model.schema import Kind
from segmentry.store import driver
from segmentry.store.tables import api_keys, tenants

KEY_PREFIX = "sgk"


COUNTERS = (
    "revision",
    "swept_at",
    "next_event_id",
    "next_seg_id",
    "next_product_seq",
    "next_customer_seq",
    "member_log_rows",
)
"""The tenant row's counters: a write transaction reads them once, with the row's lock,
takes from them in memory and writes the changed ones back with one ``UPDATE``."""


def seq_counter(kind: Kind) -> str:
    """The counter of the next seq of ``kind``'s entities."""
    return f"next_{kind.value}_seq"


@dataclass(frozen=True, slots=True)
class TenantRow:
    tenant_id: int
    name: str
    time_zone: str
    created_at: int
    counters: dict[str, int]
    """Every counter of :data:`COUNTERS`, as read."""

    @property
    def revision(self) -> int:
        return self.counters["revision"]

    @property
    def swept_at(self) -> int:
        return self.counters["swept_at"]


@dataclass(frozen=True, slots=True)
class KeyRow:
    key_id: str
    name: str
    created_at: int
    revoked_at: int | None


def insert_tenant(conn: Connection, *, name: str, time_zone: str, now: int) -> int:
    result = conn.execute(
        tenants.insert().values(name=name, time_zone=time_zone, created_at=now, swept_at=now)
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def tenant_ids(conn: Connection) -> list[int]:
    """Every tenant, for the time sweeper and the CLI (not a data read)."""
    return list(conn.scalars(sa.select(tenants.c.tenant_id).order_by(tenants.c.tenant_id)))


_TENANT_COLUMNS = (tenants.c.tenant_id, tenants.c.name, tenants.c.time_zone, tenants.c.created_at)
_GET_TENANT = sa.select(*_TENANT_COLUMNS, *(tenants.c[c] for c in COUNTERS)).where(
    tenants.c.tenant_id == sa.bindparam("tenant_id")
)
_LOCK_TENANT = _GET_TENANT.with_for_update()


def get_tenant(conn: Connection, *, tenant_id: int, lock: bool = False) -> TenantRow | None:
    """The tenant row; ``lock`` takes a row lock on PostgreSQL so writers of one
    tenant go one at a time (SQLite's BEGIN IMMEDIATE already serialises them)."""
    query = _LOCK_TENANT if lock else _GET_TENANT
    row = conn.execute(query, {"tenant_id": tenant_id}).one_or_none()
    if row is None:
        return None
    tenant_id, name, time_zone, created_at, *counters = row
    return TenantRow(
        tenant_id, name, time_zone, created_at, dict(zip(COUNTERS, counters, strict=True))
    )


def set_counters(conn: Connection, *, tenant_id: int, values: Mapping[str, int]) -> None:
    """Write counters of a tenant whose row this transaction holds locked."""
    unknown = set(values) - set(COUNTERS)
    if unknown:
        raise ValueError(f"not a tenant counter: {sorted(unknown)}")
    if values:  # through the driver: every write ends with this statement
        row = (*values.values(), tenant_id)
        driver.update(conn, "tenants", list(values), ("tenant_id",), [row])


# -- API keys --------------------------------------------------------------------------


def _hash(secret: str) -> str:
    # Keys are 256-bit random tokens, so a fast hash is safe: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def insert_key(conn: Connection, *, tenant_id: int, name: str, now: int) -> tuple[str, str]:
    """A new key: returns ``(key_id, plain_key)``; only the hash is stored."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    conn.execute(
        api_keys.insert().values(
            tenant_id=tenant_id, key_id=key_id, name=name, secret_hash=_hash(secret), created_at=now
        )
    )
    return key_id, f"{KEY_PREFIX}_{key_id}_{secret}"


def revoke_key(conn: Connection, *, tenant_id: int, key_id: str, now: int) -> bool:
    result = conn.execute(
        api_keys.update()
        .where(api_keys.c.tenant_id == tenant_id, api_keys.c.key_id == key_id)
        .where(api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1


def list_keys(conn: Connection, *, tenant_id: int) -> list[KeyRow]:
    query = (
        sa.select(api_keys.c.key_id, api_keys.c.name, api_keys.c.created_at, api_keys.c.revoked_at)
        .where(api_keys.c.tenant_id == tenant_id)
        .order_by(api_keys.c.created_at)
    )
    return [KeyRow(*row) for row in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """A key's row as a request checks it, with its tenant's revision read alongside."""

    tenant_id: int
    key_id: str
    secret_hash: str
    revoked: bool
    revision: int


def split_key(plain_key: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` of a key of segmentry's shape; ``None`` otherwise."""
    prefix, _, rest = plain_key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or not key_id or not secret:
        return None
    return key_id, secret


def secret_matches(check: KeyCheck, secret: str) -> bool:
    return hmac.compare_digest(check.secret_hash, _hash(secret))


_CHECK_KEY = (
    sa.select(
        api_keys.c.tenant_id,
        api_keys.c.key_id,
        api_keys.c.secret_hash,
        api_keys.c.revoked_at.is_not(None),
        tenants.c.revision,
    )
    .select_from(api_keys.join(tenants, api_keys.c.tenant_id == tenants.c.tenant_id))
    .where(api_keys.c.key_id == sa.bindparam("key_id"))
)


def check_key(conn: Connection, key_id: str) -> KeyCheck | None:
    """The key's row and its tenant's revision, in one indexed read (the key decides
    the tenant, so there is no tenant to scope this by)."""
    row = conn.execute(_CHECK_KEY, {"key_id": key_id}).one_or_none()
    return KeyCheck(*row) if row is not None else None


_REVISION = sa.select(tenants.c.revision).where(tenants.c.tenant_id == sa.bindparam("tenant_id"))


def revision(conn: Connection, *, tenant_id: int) -> int | None:
    """The tenant's revision: whether state kept in memory is still current."""
    value = conn.execute(_REVISION, {"tenant_id": tenant_id}).scalar_one_or_none()
    return int(value) if value is not None else None
