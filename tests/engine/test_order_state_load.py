"""A tenant's orders loaded from the database (``engine/purchasing.py``, read as
columns) hold what the writes built in memory: each order's customer, time, total,
whether it counts, record and lines, and the indexes by customer, by product and
of lines waiting for a product. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from segmentry.engine import state as state_module
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.match.purchases import Purchases
from segmentry.store import tenants as tenant_store
from segmentry.store.database import read_transaction


def _order(
    customer: str | None, day: int, *lines: tuple[str, int, str], **rest: Any
) -> dict[str, Any]:
    return {
        **({"customer_id": customer} if customer else {}),
        "placed_at": f"2024-03-{day:02d}T10:00:00Z",
        "lines": [{"product_id": p, "quantity": q, "unit_price": u} for p, q, u in lines],
        **rest,
    }


def _held(purchases: Purchases) -> dict[str, Any]:
    """What the order state holds, independent of where in its arrays it holds it."""
    alive = [s for s in range(purchases.size) if purchases.orders.alive[s]]

    def orders_of(rows: Any) -> list[int]:
        return sorted(int(purchases.line_order[r]) for r in rows)

    return {
        "orders": {
            s: (
                int(purchases.customer[s]),
                int(purchases.placed_at[s]),
                int(purchases.total[s]),
                bool(purchases.counted[s]),
                purchases.orders.record(s),
                [
                    (
                        int(purchases.line_product[r]),
                        int(purchases.line_quantity[r]),
                        int(purchases.line_price[r]),
                    )
                    for r in purchases.line_rows(s)
                ],
            )
            for s in alive
        },
        "by_customer": {c: sorted(b) for c, b in purchases._of_customer.items() if b},
        "by_product": {p: orders_of(b) for p, b in purchases._of_product.items() if b},
        "waiting": {i: orders_of(b) for i, b in purchases._waiting.items() if b},
    }


def test_the_loaded_orders_equal_the_ones_built_by_the_writes(
    segmentry: Segmentry, shop: Shop
) -> None:
    shop.upsert_many("customer", [{"id": f"c{n}"} for n in range(6)])
    shop.upsert_many("product", [{"id": f"p{n}", "price": 5} for n in range(4)])
    shop.put_order("o1", _order("c1", 1, ("p1", 2, "40"), ("p2", 1, "3.5")))
    shop.put_order("o2", _order(None, 2, ("p1", 1, "10")))  # a guest
    shop.put_order("o3", _order("c9", 3, ("p0", 1, "1")))  # no such customer
    shop.put_order("o4", _order("c2", 4, ("later", 3, "2"), ("p3", 1, "7")))  # no product yet
    shop.put_order("o5", _order("c2", 5, ("p2", 1, "9"), status="cancelled"))
    shop.put_order("o6", _order("c3", 6, ("p1", 1, "1")))
    shop.put_order("o6", _order("c4", 7, ("p0", 4, "2"), ("p2", 1, "1")))  # replaced
    shop.put_order("o7", _order("c5", 8, ("p3", 1, "1")))
    shop.delete_order("o7")
    shop.put_order("o8", _order("c1", 9, ('"gone", it said', 1, "1")))
    with segmentry.view(shop.tenant_id) as view:
        built = _held(view.state.purchases)
    with read_transaction(segmentry.database) as conn:
        row = tenant_store.get_tenant(conn, tenant_id=shop.tenant_id)
        assert row is not None
        loaded = _held(state_module.load(conn, row).purchases)
    assert loaded == built
    assert set(loaded["waiting"]) == {"later", '"gone", it said'}
    assert len(loaded["orders"]) == 7


def test_a_tenant_of_guest_orders_only_loads(segmentry: Segmentry, shop: Shop) -> None:
    shop.put_order("o1", _order(None, 1, ("p1", 1, "5")))
    shop.put_order("o2", _order(None, 2, ("p1", 2, "5")))
    with segmentry.view(shop.tenant_id) as view:
        built = _held(view.state.purchases)
    with read_transaction(segmentry.database) as conn:
        row = tenant_store.get_tenant(conn, tenant_id=shop.tenant_id)
        assert row is not None
        loaded = _held(state_module.load(conn, row).purchases)
    assert loaded == built
    assert loaded["waiting"] == {"p1": [1, 2]}
