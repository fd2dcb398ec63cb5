"""One write, one transaction: a PUT is a key check and a single write transaction
that takes the tenant row once; and a key revoked anywhere is refused at once, though
a key's proof is kept between requests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from segmentry.engine.segmentry import Segmentry
from tests.api.conftest import Caller, is_problem, new_tenant


@dataclass
class Seen:
    transactions: int = 0
    statements: list[str] = field(default_factory=list)

    def on_tenants(self) -> list[str]:
        return [s for s in self.statements if " tenants" in s.lower()]


@contextmanager
def counted(engine: Engine) -> Iterator[Seen]:
    """The transactions begun and statements sent on ``engine`` meanwhile."""
    seen = Seen()

    def began(_conn: object) -> None:
        seen.transactions += 1

    def sent(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
        seen.statements.append(" ".join(sql.split()))

    sa.event.listen(engine, "begin", began)
    sa.event.listen(engine, "before_cursor_execute", sent)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", sent)
        sa.event.remove(engine, "begin", began)


def test_a_put_is_a_key_check_and_one_write_that_takes_the_tenant_row_once(
    segmentry: Segmentry, api: Caller
) -> None:
    assert api.post("/v1/attributes", json={"kind": "product", "key": "season",
                                            "type": "string"}).status_code == 201  # fmt: skip
    assert api.put("/v1/products/p1", json={"price": 10}).status_code == 200  # first use
    with counted(segmentry.database) as seen:
        answer = api.put("/v1/products/p2", json={"price": 20, "attributes": {"season": "ss"}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["attributes"] == {"season": "ss"}  # flattened and shown by the write
    # Before: four transactions (the key, a schema read to flatten, the write, a schema
    # read to render) and seven statements on the tenant row.
    assert seen.transactions == 2, seen.statements  # the key check, the write
    tenant_rows = seen.on_tenants()
    assert len(tenant_rows) == 3, tenant_rows  # read with the key; locked; written back
    assert tenant_rows[0].lower().startswith("select")
    assert "api_keys" in tenant_rows[0]
    assert tenant_rows[1].lower().startswith("select")
    assert tenant_rows[2].lower().startswith("update")
    assert not [s for s in seen.statements if "max(" in s.lower()]  # the seq is a counter


def test_new_entities_take_seqs_from_the_tenant_counter(segmentry: Segmentry, api: Caller) -> None:
    items = [{"id": f"c{n}", "platform": "ios"} for n in range(3)]
    assert api.post("/v1/customers/batch", json={"items": items}).status_code == 200
    assert api.delete("/v1/customers/c2").status_code == 204
    assert api.put("/v1/customers/c3", json={"platform": "ios"}).status_code == 200
    assert api.put("/v1/customers/c2", json={"platform": "ios"}).status_code == 200  # its seq back
    with segmentry.database.connect() as conn:
        seqs = dict(
            conn.execute(
                sa.text("select id, seq from entities where tenant_id = :t and kind = 'customer'"),
                {"t": api.tenant_id},
            ).all()
        )
        counter = conn.execute(
            sa.text("select next_customer_seq from tenants where tenant_id = :t"),
            {"t": api.tenant_id},
        ).scalar_one()
    assert seqs == {"c0": 1, "c1": 2, "c2": 3, "c3": 4}
    assert counter == 5


def test_a_key_check_is_one_statement_and_no_transaction_of_its_own(
    segmentry: Segmentry, api: Caller
) -> None:
    assert api.get("/v1/segments").status_code == 200
    with counted(segmentry.database) as seen:
        segmentry.check_key(api.key)
    # Before: BEGIN on SQLite, then the key's row, and its secret hashed every time.
    assert len(seen.statements) == 1, seen.statements
    assert "api_keys" in seen.statements[0]


def test_a_key_revoked_here_is_refused_on_the_very_next_request(
    segmentry: Segmentry, api: Caller
) -> None:
    assert api.get("/v1/segments").status_code == 200  # the key is proven and kept
    (key,) = segmentry.keys(api.tenant_id)
    segmentry.revoke_key(api.tenant_id, key.key_id)
    is_problem(api.get("/v1/segments"), 401, "unauthenticated")
    is_problem(api.get("/v1/segments/x/members/c1"), 401, "unauthenticated")
    is_problem(api.put("/v1/products/p1", json={"price": 1}), 401, "unauthenticated")


def test_a_key_revoked_by_another_process_is_refused_on_the_very_next_request(
    segmentry: Segmentry, database_url: str, api: Caller
) -> None:
    """Another ``Segmentry`` on the same database (another process, such as the CLI or a
    second server) revokes the key: this one refuses it at once."""
    _, spare = new_tenant(segmentry, "untouched")  # another tenant's key keeps working
    for _ in range(3):
        assert api.get("/v1/segments/x/members/c1").status_code == 404  # proven, kept
    (key,) = segmentry.keys(api.tenant_id)
    with Segmentry(database_url) as other_process:
        other_process.revoke_key(api.tenant_id, key.key_id)
    is_problem(api.get("/v1/segments/x/members/c1"), 401, "unauthenticated")
    is_problem(api.get("/v1/segments"), 401, "unauthenticated")
    answer = api.client.get("/v1/segments", headers={"Authorization": f"Bearer {spare}"})
    assert answer.status_code == 200
