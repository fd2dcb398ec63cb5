"""Tenants and their API keys, mixed into :class:`~segmentry.engine.segmentry.Segmentry`.

A tenant is a name and a time zone; an API key speaks for one tenant. Only a
key's hash is stored: the plain key is handed out once, when issued. A key whose
secret this process has seen match is remembered, so the hash is compared once;
its row is still read on every check, so a revocation by any process refuses the
very next request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from segmentry.engine.types import ApiKey, Tenant
from segmentry.errors import AuthenticationError, NotFoundError, ValidationError
from segmentry.model.temporal import from_micros, to_micros
from segmentry.model.values import check_text
from segmentry.store import tenants as tenant_store
from segmentry.store.database import read_transaction, single_reads, write_transaction
from segmentry.store.tenants import TenantRow

PROVEN_KEYS = 10_000
"""Keys whose secret this process has seen match, kept (then forgotten all at once)."""
REFUSED = "missing, unknown or revoked API key"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request's API key speaks for, and the tenant's revision read with the key."""

    tenant_id: int
    key_id: str
    revision: int


class TenantCalls:
    """Tenants and API keys of one database: create, list, issue, revoke, check."""

    database: Engine
    _proven: dict[str, tuple[int, str]]

    def now(self) -> datetime:
        raise NotImplementedError  # pragma: no cover - Segmentry's

    def _ensure_default_tenant(self) -> None:
        with write_transaction(self.database) as conn:
            if not tenant_store.tenant_ids(conn):
                tenant_store.insert_tenant(
                    conn, name="default", time_zone="UTC", now=to_micros(self.now())
                )

    def create_tenant(self, name: str, time_zone: str = "UTC") -> Tenant:
        name = check_text(name, field="tenant name", max_length=200).strip()
        _zone(time_zone)
        with write_transaction(self.database) as conn:
            tenant_id = tenant_store.insert_tenant(
                conn, name=name.strip(), time_zone=time_zone, now=to_micros(self.now())
            )
            row = tenant_store.get_tenant(conn, tenant_id=tenant_id)
        assert row is not None
        return _tenant(row)

    def tenants(self) -> list[Tenant]:
        with read_transaction(self.database) as conn:
            rows = [
                tenant_store.get_tenant(conn, tenant_id=t) for t in tenant_store.tenant_ids(conn)
            ]
        return [_tenant(r) for r in rows if r is not None]

    def tenant(self, tenant_id: int) -> Tenant:
        with read_transaction(self.database) as conn:
            return _tenant(self._tenant_row(conn, tenant_id))

    def issue_key(self, tenant_id: int, name: str = "") -> tuple[ApiKey, str]:
        """A new API key: the plain key is returned this once; only its hash is kept."""
        check_text(name, field="key name", max_length=200, required=False)
        with write_transaction(self.database) as conn:
            self._tenant_row(conn, tenant_id)
            now = to_micros(self.now())
            key_id, plain = tenant_store.insert_key(conn, tenant_id=tenant_id, name=name, now=now)
        return ApiKey(key_id, name, from_micros(now), None), plain

    def revoke_key(self, tenant_id: int, key_id: str) -> None:
        with write_transaction(self.database) as conn:
            if not tenant_store.revoke_key(
                conn, tenant_id=tenant_id, key_id=key_id, now=to_micros(self.now())
            ):
                raise NotFoundError(f"tenant {tenant_id} has no active key {key_id!r}")
        for plain, (_, proven_id) in list(self._proven.items()):
            if proven_id == key_id:
                self._proven.pop(plain, None)

    def keys(self, tenant_id: int) -> list[ApiKey]:
        with read_transaction(self.database) as conn:
            rows = tenant_store.list_keys(conn, tenant_id=tenant_id)
        return [
            ApiKey(
                r.key_id,
                r.name,
                from_micros(r.created_at),
                from_micros(r.revoked_at) if r.revoked_at else None,
            )
            for r in rows
        ]

    def authenticate(self, plain_key: str) -> tuple[int, str]:
        """``(tenant_id, key_id)`` of a valid key, or an AuthenticationError."""
        caller = self.check_key(plain_key)
        return caller.tenant_id, caller.key_id

    def check_key(self, plain_key: str) -> Caller:
        """The caller a valid, unrevoked key speaks for, or an AuthenticationError.

        One indexed read per call, without a transaction around it: the key's row
        (so a revocation, by any process, refuses the very next request) and its
        tenant's revision (so a read can tell at once whether the state kept in
        memory is current). The hash of a key's secret is compared once; a key
        whose secret matched is remembered."""
        if not isinstance(plain_key, str) or not plain_key.isascii() or not plain_key.isprintable():
            raise AuthenticationError(REFUSED)
        parts = tenant_store.split_key(plain_key)
        if parts is None:
            raise AuthenticationError(REFUSED)
        key_id, secret = parts
        with single_reads(self.database) as conn:
            found = tenant_store.check_key(conn, key_id)
        if found is None or found.revoked:
            self._proven.pop(plain_key, None)
            raise AuthenticationError(REFUSED)
        if self._proven.get(plain_key) != (found.tenant_id, key_id):
            if not tenant_store.secret_matches(found, secret):
                raise AuthenticationError(REFUSED)
            if len(self._proven) >= PROVEN_KEYS:
                self._proven.clear()
            self._proven[plain_key] = (found.tenant_id, key_id)
        return Caller(found.tenant_id, key_id, found.revision)

    def _tenant_row(self, conn: Connection, tenant_id: int, lock: bool = False) -> TenantRow:
        row = tenant_store.get_tenant(conn, tenant_id=tenant_id, lock=lock)
        if row is None:
            raise NotFoundError(f"no tenant {tenant_id}")
        return row


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Madrid", field="time_zone"
        ) from None


def _tenant(row: TenantRow) -> Tenant:
    return Tenant(row.tenant_id, row.name, row.time_zone, from_micros(row.created_at))
