"""Where one order's time goes under behavioural segments:
``python -m bench.behaviour_profile [--orders N] [--segments M] [--writes K]``.

The profile behind ``behaviour_update_vs_recompute`` and ``order_ingest_rate``. It
builds the shop of ``bench.behaviour.run_update`` (products, ``N`` stored orders,
the product segments and ``M`` behavioural segments of :mod:`bench.order_rules`),
then writes ``K`` orders one by one with ``Shop.put_order`` under cProfile and
prints the median milliseconds per order and the heaviest functions.

This is a measuring tool, not something the engine depends on.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import tempfile
import time
from pathlib import Path

from bench import order_rules, orders
from bench.orders import history
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.types import SegmentSpec
from segmentry.synthetic import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=2_000)
    parser.add_argument("--segments", type=int, default=1_000)
    parser.add_argument("--writes", type=int, default=10)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--ingest", action="store_true", help="profile order_ingest_rate's batches instead"
    )
    args = parser.parse_args()
    if args.ingest:
        ingest(args.orders, args.segments, args.top)
        return
    customers = max(500, args.orders // 2)
    products = max(500, customers // 10)
    made = history(args.orders + args.writes, customers=customers, products=products, seed=37)
    docs = list(made.documents())
    loaded, timed = docs[: args.orders], docs[args.orders :]
    with tempfile.TemporaryDirectory(prefix="segmentry-bench-") as folder:
        path = Path(folder) / "behaviour.db"
        with Segmentry(f"sqlite:///{path}", clock=lambda: generate.NOW) as segmentry:
            shop = segmentry.default_shop()
            shop.upsert_many("product", list(generate.products(products).documents()))
            for start in range(0, len(loaded), 5_000):
                shop.put_orders(loaded[start : start + 5_000])
            for code, rule in order_rules.product_segments():
                shop.create_segment(SegmentSpec(kind="product", code=code, name=code, rule=rule))
            for number, order_rule in enumerate(order_rules.rules(args.segments)):
                shop.create_segment(
                    SegmentSpec(
                        kind=order_rule.kind.value,
                        code=f"b{number}",
                        name=f"B {number}",
                        rule=order_rule.behaviour,
                    )
                )
            shop.put_order(timed[0]["id"], timed[0])  # warm
            seconds = []
            profile = cProfile.Profile()
            for doc in timed[1:]:
                start = time.perf_counter()
                profile.enable()
                shop.put_order(doc["id"], doc)
                profile.disable()
                seconds.append(time.perf_counter() - start)
    print(f"median {statistics.median(seconds) * 1e3:.1f} ms per order (profiled)")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


def ingest(count: int, segment_count: int, top: int) -> None:
    """``order_ingest_rate``'s shop (customers, products, ``segment_count`` segments of
    which a fifth behavioural) taking ``count`` orders in batches, profiled."""
    customers, products = max(1_000, count // 2), max(500, count // 10)
    docs = list(history(count + 1, customers=customers, products=products).documents())
    with (
        tempfile.TemporaryDirectory(prefix="segmentry-bench-") as folder,
        Segmentry(f"sqlite:///{Path(folder) / 'orders.db'}") as segmentry,
    ):
        write = orders._shop_writer(
            segmentry, customers, products, docs[:1], segment_count=segment_count,
            behavioural=segment_count // 5,
        )  # fmt: skip
        profile = cProfile.Profile()
        start = time.perf_counter()
        for first in range(1, len(docs), orders.BATCH):
            profile.enable()
            write(docs[first : first + orders.BATCH])
            profile.disable()
        seconds = time.perf_counter() - start
    print(f"{count / seconds:.0f} orders/s (profiled)")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(top)
    pstats.Stats(profile).sort_stats("tottime").print_stats(top)


if __name__ == "__main__":
    main()
