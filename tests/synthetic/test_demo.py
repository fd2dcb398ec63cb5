"""The demo shop is the same shop at every run: fixed seeds, dated from the clock."""

from __future__ import annotations

from datetime import UTC, datetime

from segmentry.engine.segmentry import Segmentry
from segmentry.synthetic.demo import build_demo

MOMENT = datetime(2027, 2, 3, 4, 5, tzinfo=UTC)


def _counts(moment: datetime = MOMENT) -> tuple[dict[str, int], list[str]]:
    with Segmentry("sqlite://", clock=lambda: moment) as segmentry:
        built = build_demo(segmentry, products=800, customers=1_500)
        shop = segmentry.shop(built.tenant_id)
        picked = [m.id for m in shop.members("handpickedVips").items]
        return {s.code: s.member_count for s in built.segments}, picked


def test_every_run_builds_the_same_shop_shifted_to_its_moment() -> None:
    """The demo's counts (the relative-time segment's too) can be quoted in docs."""
    assert _counts() == _counts(datetime(2029, 8, 17, 23, 59, 1, tzinfo=UTC))


def test_the_steps_report_progress_up_to_their_totals() -> None:
    seen: dict[str, tuple[int, int]] = {}

    def step(what: str, done: int, total: int) -> None:
        seen[what] = (done, total)

    with Segmentry("sqlite://", clock=lambda: MOMENT) as segmentry:
        build_demo(segmentry, products=120, customers=7_001, progress=step)
    assert seen == {"products": (120, 120), "customers": (7_001, 7_001), "segments": (8, 8)}
