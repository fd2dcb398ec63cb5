"""Playwright over Debian's Chromium, for the browser tests (never a downloaded browser).

Outside CI the browser tests skip with the reason when Chromium is missing; in
CI (``CI=true``) they fail instead, as the PostgreSQL tests do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec
from tests.conftest import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    """The engine's clock, set by hand so that pages (and screenshots) are the same
    on every run, and the member-count history spans days."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def days_later(self, days: float) -> None:
        self.now += timedelta(days=days)


def launch() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (make test installs it, as root: apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"the browser tests must run in CI: {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def shoot(page: Page, name: str) -> None:
    """A screenshot of the whole page into docs/screenshots (the README shows them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, animations="disabled")


PRODUCTS = [
    ("p1", "Air Zoom Pegasus", "Nike", 120.0, 14, ["running"]),
    ("p2", "Club Tee", "Nike", 25.0, 80, ["sale"]),
    ("p3", "Ultraboost Light", "Adidas", 180.0, 6, ["running"]),
    ("p4", "Everyday Socks", "Adidas", 9.5, 300, ["sale"]),
    ("p5", "Air Max 90", "Nike", 140.0, 0, ["classic", "sale"]),
    ("p6", "Gel-Kayano 31", "Asics", 165.0, 9, ["running"]),
    ("p7", "Trail Cap", "Salomon", 32.0, 40, []),
    ("p8", "Speedcross 6", "Salomon", 135.0, 12, ["trail"]),
]
CUSTOMERS = [
    ("c1", "ana@example.com", "Ana", "ios", True, 0.0),
    ("c2", "bo@example.com", "Bo", "android", True, 420.0),
    ("c3", "cy@example.com", "Cy", "web", False, 0.0),
    ("c4", "di@example.com", "Di", "ios", True, 0.0),
    ("c5", "ed@example.com", "Ed", "android", False, 95.0),
    ("c6", "flo@example.com", "Flo", "ios", True, 0.0),
]


@dataclass
class Site:
    url: str
    key: str
    shop: Shop


def seed(shop: Shop, clock: Clock) -> None:
    """A small shop, and one segment whose membership changed over two weeks."""
    shop.upsert_many("product", [
        {"id": i, "name": n, "brand": b, "price": p, "stock": s, "tags": t,
         "available": s > 0} for i, n, b, p, s, t in PRODUCTS
    ])  # fmt: skip
    shop.upsert_many("customer", [
        {"id": i, "email": e, "first_name": f, "platform": pl, "app_installed": a,
         "lifetime_value": v} for i, e, f, pl, a, v in CUSTOMERS
    ])  # fmt: skip
    shop.create_segment(SegmentSpec(kind="product", code="nikeSale", name="Nike on sale",
                                    rule="brand = 'Nike' AND tags CONTAINS 'sale'"))  # fmt: skip
    for day, product in ((3, "p1"), (7, "p6")):
        clock.days_later(day)
        shop.patch("product", product, {"brand": "Nike", "tags": ["sale"]})
    clock.days_later(4)
    shop.patch("product", "p6", {"brand": "Asics"})


def sign_in(page: Page, key: str) -> None:
    """With the keyboard only: the key field has the focus, Enter submits."""
    page.goto("/")
    expect(page.get_by_label("API key")).to_be_focused()
    page.keyboard.type(key)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Product segments", exact=True)).to_be_visible()


def menu(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()
