"""Playwright over Debian's Chromium, for the browser tests (never a downloaded browser).

Outside CI the browser tests skip with the reason when Chromium is missing; in
CI (``CI=true``) they fail instead, as the PostgreSQL tests do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

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
