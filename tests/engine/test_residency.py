"""Many tenants under a memory budget: states are loaded on demand and the least
recently used dropped, and every tenant still answers exactly as if all were kept."""

from __future__ import annotations

import random

import pytest

from segmentry.engine.residency import footprint, parse_size
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec
from segmentry.errors import ValidationError
from segmentry.model.schema import Kind

from .conftest import ManualClock

TENANTS, HELD, CUSTOMERS = 200, 20, 12
Values = dict[str, float]  # customer id -> lifetime value, per tenant


def _threshold(tenant: int) -> int:
    return 10 + tenant % 50


def _fill(shop: Shop, tenant: int, rng: random.Random) -> Values:
    values = {f"c{i}": float(rng.randrange(100)) for i in range(CUSTOMERS)}
    shop.upsert_many("customer", [{"id": c, "lifetime_value": v} for c, v in values.items()])
    rule = f"lifetime_value > {_threshold(tenant)}"
    shop.create_segment(SegmentSpec(kind=Kind.CUSTOMER, code="big", name="Big", rule=rule))
    return values


def _expected(values: Values, tenant: int) -> set[str]:
    return {c for c, v in values.items() if v > _threshold(tenant)}


def _check(shop: Shop, values: Values, tenant: int) -> None:
    expected = _expected(values, tenant)
    assert {m.id for m in shop.members("big", limit=1000).items} == expected
    for customer in values:
        assert (shop.member("big", customer) is not None) == (customer in expected), customer
        codes = {m.code for m in shop.segments_of("customer", customer)}
        assert ("big" in codes) == (customer in expected), customer


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[int], list[Values]]:
    """A database of 200 small tenants, each with its customers' values (shared by the
    tests here: a test that writes updates the values it changed)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('many') / 'many.db'}"
    rng = random.Random(21)
    with Segmentry(url, clock=ManualClock()) as segmentry:
        ids = [segmentry.create_tenant(f"shop {n}").tenant_id for n in range(TENANTS)]
        values = [_fill(segmentry.shop(tid), n, rng) for n, tid in enumerate(ids)]
    return url, ids, values


def _one_state_bytes(url: str, tenant_id: int, clock: ManualClock) -> int:
    with Segmentry(url, clock=clock) as segmentry, segmentry.view(tenant_id) as view:
        return footprint(view.state).total


def test_200_tenants_under_a_budget_for_20_stay_exact(
    many: tuple[str, list[int], list[Values]], clock: ManualClock
) -> None:
    url, ids, values = many
    budget = HELD * _one_state_bytes(url, ids[0], clock) * 21 // 20
    rng = random.Random(7)
    with Segmentry(url, clock=clock, memory_budget=budget) as segmentry:
        for _ in range(2):  # twice round: the second finds most states dropped
            for n in rng.sample(range(TENANTS), TENANTS):
                shop = segmentry.shop(ids[n])
                _check(shop, values[n], n)
                moved = rng.choice(list(values[n]))
                values[n][moved] = float(rng.randrange(100))
                shop.upsert("customer", moved, {"lifetime_value": values[n][moved]})
                _check(shop, values[n], n)
                kept = segmentry.residency.tenants()
                assert len(kept) <= HELD + 1
                assert segmentry.residency.resident_bytes() <= budget
        assert len(segmentry.residency.tenants()) >= HELD // 2  # kept as many as fit


def test_a_state_in_use_is_not_dropped(
    many: tuple[str, list[int], list[Values]], clock: ManualClock
) -> None:
    url, ids, values = many
    budget = 3 * _one_state_bytes(url, ids[0], clock)
    with Segmentry(url, clock=clock, memory_budget=budget) as segmentry:
        with segmentry.view(ids[0]) as view:
            for n in range(1, 30):  # loads 29 others while the first is read
                _check(segmentry.shop(ids[n]), values[n], n)
            assert segmentry.residency.get(ids[0]) is view.state
        assert ids[0] in segmentry.residency.tenants()
        assert len(segmentry.residency.tenants()) <= 4


def test_a_state_over_the_budget_alone_is_still_served(
    many: tuple[str, list[int], list[Values]], clock: ManualClock
) -> None:
    url, ids, values = many
    with Segmentry(url, clock=clock, memory_budget=1) as segmentry:
        for n in range(5):
            _check(segmentry.shop(ids[n]), values[n], n)
            assert segmentry.residency.tenants() == [ids[n]]


@pytest.mark.parametrize(
    ("text", "size"), [("512M", 512 << 20), ("2G", 2 << 30), ("1.5GiB", 3 << 29), ("1000", 1000)]
)
def test_budgets_are_read_in_binary_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "-1G", "0"])
def test_a_budget_that_is_not_a_size_is_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="memory budget"):
        parse_size(text)


def test_a_states_orders_count_in_its_size(shop: Shop) -> None:
    """Orders are held in memory with the entities: a shop with many order lines weighs
    more, so the budget drops it sooner."""
    shop.upsert("customer", "c1", {})
    with shop.segmentry.view(shop.tenant_id) as view:
        before = footprint(view.state).columns
    lines = [{"product_id": f"p{n}", "quantity": 1, "unit_price": 1} for n in range(3_000)]
    shop.put_order("o1", {"customer_id": "c1", "placed_at": "2024-03-01", "lines": lines})
    with shop.segmentry.view(shop.tenant_id) as view:
        assert footprint(view.state).columns >= before + 3_000 * 8 * 4
