"""Run the benchmark suite: ``python -m bench [--quick] [--json]``.

Full size (``make bench``): N = 10,000,000 customers, M = 100,000 segments,
listings over 1,000,000 stored customers; writes ``bench/RESULTS.md``.
``--quick``: N = 1,000,000, M = 10,000, listings over 100,000. ``--json`` prints
the figures as one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench import (
    delivery,
    forward,
    ingest,
    listing,
    order_report,
    report,
    reverse,
    scaling,
    shopdata,
    tenants,
    web,
    writes,
)

QUICK = {
    "customers": 1_000_000,
    "segments": 10_000,
    "events": 300,
    "ingest": 8_000,
    "listing": 100_000,
    "tenant_customers": 100_000,
    "write_segments": 300,
    "writes": 300,
    "scaling_seconds": 3,
    **order_report.QUICK,
}
FULL = {
    "customers": 10_000_000,
    "segments": 100_000,
    "events": 300,
    "ingest": 50_000,
    "listing": 1_000_000,
    "tenant_customers": 1_000_000,
    "write_segments": 1_000,
    "writes": 1_000,
    "scaling_seconds": 5,
    **order_report.FULL,
}
INGEST_SEGMENTS = 1_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="N = 1M customers, M = 10k segments")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON last")
    parser.add_argument("--customers", type=int, help="N, the customers scanned")
    parser.add_argument("--segments", type=int, help="M, the segments matched per update")
    parser.add_argument("--events", type=int, help="entity updates in the reverse stream")
    parser.add_argument("--ingest", type=int, help="customers imported for ingest_rate")
    parser.add_argument("--listing", type=int, help="customers stored for listing_vs_preview")
    parser.add_argument("--tenant-customers", type=int, help="customers of the cold-loaded tenant")
    parser.add_argument("--write-segments", type=int, help="segments under the timed PUTs")
    parser.add_argument("--writes", type=int, help="timed single-customer PUTs")
    parser.add_argument("--scaling-seconds", type=int, help="seconds of member checks per way")
    parser.add_argument("--orders", type=int, help="orders written for order_ingest_rate")
    parser.add_argument("--order-lines", type=int, help="lines in the measured order state")
    parser.add_argument("--behaviour-customers", type=int, help="customers of the preview")
    parser.add_argument("--behaviour-lines", type=int, help="order lines of the preview")
    parser.add_argument("--behaviour-orders", type=int, help="orders stored under the update")
    parser.add_argument("--results", type=Path, help="write the Markdown table here")
    args = parser.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    for key in sizes:
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)
    results = args.results or (None if args.quick else Path(__file__).parent / "RESULTS.md")
    figures = run(sizes, log=lambda text: print(text, file=sys.stderr, flush=True))
    if results is not None:
        results.write_text(report.markdown(figures))
    if args.json:
        print(json.dumps(figures))
    else:
        print(report.markdown(figures))
    return 0


def run(
    sizes: dict[str, int], log: report.Log, ingest_segments: int = INGEST_SEGMENTS
) -> dict[str, object]:
    started = time.perf_counter()
    log(f"generating {sizes['customers']:,} customers")
    data = shopdata.customers(sizes["customers"])
    log("forward: columnar vs SQLite, and the bus reading as many bytes in turns")
    ahead = forward.run(data, repeat=7)
    log(
        f"forward: memory bandwidth {ahead.bandwidth / 1e9:.1f} GB/s with "
        f"{ahead.floor_threads} threads"
    )
    log(f"reverse: {sizes['segments']:,} segments, {sizes['events']:,} mixed updates")
    mixed = reverse.run(data, shopdata.rules(sizes["segments"]), sizes["events"], reverse.MIXED)
    log("reverse: worst-case schema (every segment on the changed attribute)")
    worst = reverse.run(
        data, reverse.worst_case_rules(sizes["segments"]), sizes["events"] // 2, reverse.REVALUE
    )
    log(f"ingest: {sizes['ingest']:,} customers, {ingest_segments:,} segments vs plain inserts")
    imported = ingest.run(sizes["ingest"], ingest_segments)
    ordered = order_report.run(sizes, log, ingest_segments)
    members = min(web.MEMBERS, sizes["customers"])  # a tiny run stays tiny
    log(f"web: the first members page of a {members:,}-member segment")
    page = web.run(members)
    log(f"web: {page.page_s * 1e3:.1f} ms for the page, {page.peer_s * 1e3:.1f} ms bare")
    delivery_writes = min(2_000, max(40, sizes["ingest"] // 12))
    log(
        f"delivery: the demo shop with {delivery.WEBHOOKS} webhooks, "
        f"{delivery_writes:,} writes a phase"
    )
    delivered = delivery.run(customers=min(sizes["ingest"], 20_000), writes=delivery_writes)
    stored = sizes.get("listing", sizes["customers"])
    log(f"listing: the first page of a selective rule over {stored:,} stored customers")
    listed = listing.run(stored)
    log(f"listing: {listed.listing_s * 1e3:.2f} ms, preview {listed.preview_s * 1e3:.2f} ms")
    serving = _serving(sizes, log, ingest_segments)
    figures = report.figures(sizes, ahead, mixed, worst, imported, time.perf_counter() - started)
    figures |= report.web_figures(page) | delivery.figures(delivered)
    figures |= report.listing_figures(listed) | serving | ordered
    return figures | {"floor_threads": ahead.floor_threads}


def _serving(sizes: dict[str, int], log: report.Log, ingest_segments: int) -> dict[str, object]:
    """What users of a served shop feel: a cold tenant, a write's tail, more processes."""
    customers = sizes.get("tenant_customers", min(sizes["customers"], 100_000))
    log(f"tenants: loading a {customers:,}-customer tenant vs a plain SELECT of its rows")
    loaded = tenants.run(customers)
    segment_count = sizes.get("write_segments", ingest_segments)
    count = sizes.get("writes", sizes["events"])
    log(f"writes: {count:,} single-customer PUTs under {segment_count:,} segments")
    written = writes.run(segment_count, count)
    log("scaling: member checks with 2 worker processes vs 1")
    scaled = scaling.run(float(sizes.get("scaling_seconds", 1)))
    return report.serving_figures(loaded, written, scaled)


if __name__ == "__main__":
    raise SystemExit(main())
