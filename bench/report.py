"""The figures of one run: the JSON object and the Markdown table of RESULTS.md."""

from __future__ import annotations

import platform
from collections.abc import Callable
from typing import Any

import numpy as np

from bench import order_report
from bench.forward import RULE, ForwardResult
from bench.ingest import IngestResult
from bench.listing import ListingResult
from bench.reverse import ReverseResult
from bench.scaling import ScalingResult
from bench.tenants import TenantLoadResult
from bench.web import WebResult
from bench.writes import WriteResult

Log = Callable[[str], None]
TARGETS = {
    "forward_vs_sqlite": "≥ 30 at N = 10M (≥ 10 quick)",
    "forward_vs_floor": "≤ 1.2 at N = 10M (≤ 3 quick)",
    "reverse_vs_naive.mean": "≥ 50 at M = 100k (≥ 20 quick)",
    "reverse_vs_naive.p99": "≥ 10 at M = 100k",
    "reverse_vs_vectorised.mean": "≥ 3",
    "reverse_vs_vectorised.worst_case_schema": "≥ 0.8",
    "recount_vs_scan": "≥ 100",
    "ingest_rate": "≥ 0.33",
    "member_check_vs_bare": "≥ 0.6",
    "write_p99_vs_plain": "≤ 5 (1,000 segments; 300 quick)",
    "cold_tenant_load": "≤ 3 (1M customers; 100k quick)",
    "resident_bytes_per_customer": "≤ 150 (columnar state, strings aside)",
    "read_scaling_2_workers": "≥ 1.6",
}


SERVING = (
    "member_check_vs_bare",
    "write_p99_vs_plain",
    "cold_tenant_load",
    "resident_bytes_per_customer",
    "read_scaling_2_workers",
)


def _ms(seconds: float) -> float:
    return round(seconds * 1e3, 4)


def figures(  # noqa: PLR0917 -- one argument per measurement of the run
    sizes: dict[str, int],
    ahead: ForwardResult,
    mixed: ReverseResult,
    worst: ReverseResult,
    imported: IngestResult,
    elapsed: float,
) -> dict[str, Any]:
    return {
        "forward_vs_sqlite": round(ahead.vs_sqlite(), 2),
        "forward_vs_floor": round(ahead.vs_floor(), 2),
        "reverse_vs_naive": {k: round(v, 2) for k, v in mixed.vs_naive().items()},
        "reverse_vs_vectorised": {
            "mean": round(mixed.vs_vectorised(), 2),
            "worst_case_schema": round(worst.vs_vectorised(), 2),
        },
        "recount_vs_scan": round(ahead.recount_vs_scan(), 1),
        "ingest_rate": round(imported.ratio, 3),
        "ingest_vs_no_segments": round(imported.vs_no_segments, 3),
        "sizes": {
            **sizes,
            "ingest_segments": imported.segments,
            "forward_members": ahead.members,
            "scan_bytes": ahead.scan_bytes,
            "fallbacks_mixed": mixed.fallbacks,
            "fallbacks_worst_case": worst.fallbacks,
        },
        "medians_ms": {
            "forward_count": _ms(ahead.count_s),
            "forward_list": _ms(ahead.list_s),
            "sqlite_count": _ms(ahead.sqlite_count_s),
            "sqlite_list": _ms(ahead.sqlite_list_s),
            "floor_count": _ms(ahead.floor_s),
            "recount": _ms(ahead.recount_s),
            "reverse_ours": _ms(float(np.median(mixed.ours_s))),
            "reverse_naive": _ms(float(np.median(mixed.naive_s))),
            "reverse_vectorised": _ms(float(np.median(mixed.vectorised_s))),
            "reverse_ours_worst_case": _ms(float(np.median(worst.ours_s))),
            "reverse_vectorised_worst_case": _ms(float(np.median(worst.vectorised_s))),
        },
        "means_ms": {
            "reverse_ours": _ms(float(mixed.ours_s.mean())),
            "reverse_naive": _ms(float(mixed.naive_s.mean())),
            "reverse_vectorised": _ms(float(mixed.vectorised_s.mean())),
            "reverse_ours_p99": _ms(float(np.percentile(mixed.ours_s, 99))),
            "reverse_naive_p99": _ms(float(np.percentile(mixed.naive_s, 99))),
        },
        "ingest_per_s": {
            "segmentry": round(imported.segmentry_per_s),
            "plain_inserts": round(imported.plain_per_s),
            "segmentry_no_segments": round(imported.no_segments_per_s),
        },
        "bandwidth_gb_s": round(ahead.bandwidth / 1e9, 2),
        "seconds": round(elapsed, 1),
    }


def web_figures(page: WebResult) -> dict[str, Any]:
    """The web page's figures: an absolute target (under a second), and its ratio."""
    return {
        "web_members": page.members,
        "web_first_page_ms": _ms(page.page_s),
        "web_page_vs_members_json": round(page.ratio, 1),
        "web_members_json_ms": _ms(page.peer_s),
        "member_check_vs_bare": round(page.member_check_vs_bare, 2),
        "member_checks_per_s": round(page.member_check_per_s),
        "bare_route_per_s": round(page.bare_per_s),
    }


def listing_figures(listed: ListingResult) -> dict[str, Any]:
    """The listing's figures: its first page against a preview (target ≤ 2) and against
    SQLite's own ``SELECT`` on the stored JSON, with the SQL listing it replaced."""
    return {
        "listing_vs_preview": round(listed.vs_preview, 2),
        "listing_vs_sqlite_json": round(listed.vs_sqlite_json, 1),
        "listing": {
            "customers": listed.customers,
            "rule": listed.rule,
            "listing_ms": _ms(listed.listing_s),
            "preview_ms": _ms(listed.preview_s),
            "listing_sql_ms": _ms(listed.sql_listing_s),
            "sqlite_json_ms": _ms(listed.sqlite_json_s),
        },
    }


def serving_figures(
    loaded: TenantLoadResult, written: WriteResult, scaled: ScalingResult
) -> dict[str, Any]:
    """A cold tenant's load and footprint, a write's tail, and two processes' reads."""
    return {
        "cold_tenant_load": round(loaded.ratio, 2),
        "resident_bytes_per_customer": round(loaded.bytes_per_customer, 1),
        "resident_bytes_per_membership": round(loaded.bytes_per_membership, 2),
        "write_p99_vs_plain": round(written.ratio, 2),
        "read_scaling_2_workers": round(scaled.ratio, 2),
        "serving": {
            "tenant_customers": loaded.customers,
            "tenant_memberships": loaded.memberships,
            "tenant_load_ms": _ms(loaded.load_s),
            "tenant_select_ms": _ms(loaded.select_s),
            "tenant_string_bytes_per_customer": round(loaded.strings_bytes / loaded.customers, 1),
            "write_segments": written.segments,
            "writes": written.writes,
            "put_p50_ms": _ms(float(np.median(written.put_s))),
            "put_p99_ms": _ms(float(np.percentile(written.put_s, 99))),
            "library_write_p50_ms": _ms(float(np.median(written.library_s))),
            "library_write_p99_ms": _ms(float(np.percentile(written.library_s, 99))),
            "plain_write_p50_ms": _ms(float(np.median(written.plain_s))),
            "plain_write_p99_ms": _ms(float(np.percentile(written.plain_s, 99))),
            "member_checks_1_worker_per_s": round(scaled.one_per_s),
            "member_checks_2_workers_per_s": round(scaled.two_per_s),
        },
    }


def _listing_line(fig: dict[str, Any]) -> list[str]:
    if "listing_vs_preview" not in fig:
        return []
    listed = fig["listing"]
    return [
        f"Listing: the first page (50) of `{listed['rule']}` (25 of {listed['customers']:,} "
        f"stored customers) takes {listed['listing_ms']} ms against {listed['preview_ms']} ms "
        f"for a preview of the rule (`listing_vs_preview` {fig['listing_vs_preview']}, "
        f"target ≤ 2); SQLite's own `SELECT … WHERE json_extract(doc, …)` on the stored "
        f"documents takes {listed['sqlite_json_ms']} ms (`listing_vs_sqlite_json` "
        f"{fig['listing_vs_sqlite_json']}), and the listing as it was answered before, the "
        f"rule as a SQL clause over the stored records, {listed['listing_sql_ms']} ms.",
        "",
    ]


def _serving_lines(fig: dict[str, Any]) -> list[str]:
    if "serving" not in fig:
        return []
    s = fig["serving"]
    return [
        f"Cold tenant: loading a {s['tenant_customers']:,}-customer tenant's state (20 "
        f"segments, {s['tenant_memberships']:,} memberships) takes {s['tenant_load_ms']} ms "
        f"against {s['tenant_select_ms']} ms for a plain `SELECT` of its rows "
        f"(`cold_tenant_load` {fig['cold_tenant_load']}, target ≤ 3); resident "
        f"{fig['resident_bytes_per_customer']} B per customer of columnar state (target ≤ 150), "
        f"{s['tenant_string_bytes_per_customer']} B per customer of strings, "
        f"{fig['resident_bytes_per_membership']} B per membership.",
        "",
        f"Write tail: {s['writes']:,} single-customer PUTs under {s['write_segments']:,} segments, "
        f"p50 {s['put_p50_ms']} ms, p99 {s['put_p99_ms']} ms; a plain SQLite insert and commit "
        f"of the same row, p50 {s['plain_write_p50_ms']} ms, p99 {s['plain_write_p99_ms']} ms "
        f"(`write_p99_vs_plain` {fig['write_p99_vs_plain']}, target ≤ 5); `Shop.upsert` without "
        f"HTTP p50 {s['library_write_p50_ms']} ms, p99 {s['library_write_p99_ms']} ms.",
        "",
        f"Two workers: {s['member_checks_2_workers_per_s']:,} member checks/s against "
        f"{s['member_checks_1_worker_per_s']:,} with one "
        f"(`read_scaling_2_workers` {fig['read_scaling_2_workers']}, target ≥ 1.6).",
        "",
    ]


def _web_line(fig: dict[str, Any]) -> list[str]:
    if "web_first_page_ms" not in fig:
        return []
    return [
        f"Web page: the first members page of a {fig['web_members']:,}-member segment renders in "
        f"{fig['web_first_page_ms']} ms over HTTP (target < 1,000 ms), "
        f"{fig['web_page_vs_members_json']} times the bare `Shop.members` page as JSON "
        f"({fig['web_members_json_ms']} ms).",
        "",
        f"Member check: {fig['member_checks_per_s']:,} sequential requests/s against "
        f"{fig['bare_route_per_s']:,} for a bare route of the same application "
        f"(`member_check_vs_bare` {fig['member_check_vs_bare']}, target ≥ 0.6).",
        "",
    ]


def _delivery_lines(fig: dict[str, Any]) -> list[str]:
    if "writes_with_delivery_vs_without" not in fig:
        return []
    sizes, rates, lag = fig["delivery_sizes"], fig["delivery_per_s"], fig["delivery_lag_ms"]
    lines = [
        f"Delivery (demo shop, {sizes['webhooks']} webhooks, delivered from a child process as "
        "`segmentry serve` does by default): `writes_with_delivery_vs_without` "
        f"{fig['writes_with_delivery_vs_without']} (target ≥ 0.9; "
        f"{rates['writes_with_delivery']:,} against {rates['writes_without_delivery']:,} "
        f"single-customer writes/s over {sizes['writes']:,} writes); `delivery_lag_ms` p50 "
        f"{lag['p50']}, p99 {lag['p99']} from commit to receipt at 200 customers/s "
        f"({sizes['lags']:,} receipts).",
    ]
    if "nats_publish_rate" in fig:
        nats = fig["nats_per_s"]
        lines.append(
            f"`nats_publish_rate` {fig['nats_publish_rate']} (target ≥ 0.5): the publisher "
            f"{nats['publisher']:,} events/s from the feed, a bare nats-py loop "
            f"{nats['bare_nats_py']:,} messages/s ({nats['events']:,} events)."
        )
    return [*lines, ""]


def markdown(fig: dict[str, Any]) -> str:
    rows = [
        ("forward_vs_sqlite", fig["forward_vs_sqlite"]),
        ("forward_vs_floor", fig["forward_vs_floor"]),
        ("reverse_vs_naive.mean", fig["reverse_vs_naive"]["mean"]),
        ("reverse_vs_naive.p99", fig["reverse_vs_naive"]["p99"]),
        ("reverse_vs_vectorised.mean", fig["reverse_vs_vectorised"]["mean"]),
        (
            "reverse_vs_vectorised.worst_case_schema",
            fig["reverse_vs_vectorised"]["worst_case_schema"],
        ),
        ("recount_vs_scan", fig["recount_vs_scan"]),
        ("ingest_rate", fig["ingest_rate"]),
        *((name, fig[name]) for name in SERVING if name in fig),
    ]
    targets = TARGETS | {name: target for name, _, target in order_report.rows(fig)}
    rows += [(name, value) for name, value, _ in order_report.rows(fig)]
    sizes = fig["sizes"]
    lines = [
        "# Benchmark results",
        "",
        f"`python -m bench` on {platform.machine()}, Python {platform.python_version()}: "
        f"N = {sizes['customers']:,} customers, M = {sizes['segments']:,} segments, "
        f"{sizes['events']:,} updates in the mixed stream, {sizes['ingest']:,} customers "
        f"imported; memory bandwidth {fig['bandwidth_gb_s']} GB/s read with "
        f"{fig.get('floor_threads', 1)} threads, as many as the scan's, in turns with the "
        f"counts; {fig['seconds']} s in all.",
        f"The forward rule is `{RULE}` ({sizes['forward_members']:,} members).",
        "",
        "| figure | ratio | target |",
        "|---|---:|---|",
        *(f"| `{name}` | {value} | {targets[name]} |" for name, value in rows),
        "",
        "Medians (ms):",
        "",
        "| measurement | ms |",
        "|---|---:|",
        *(f"| {k} | {v} |" for k, v in fig["medians_ms"].items()),
        "",
        "Means and tails of the mixed update stream (ms):",
        "",
        "| measurement | ms |",
        "|---|---:|",
        *(f"| {k} | {v} |" for k, v in fig["means_ms"].items()),
        "",
        f"Ingest: segmentry {fig['ingest_per_s']['segmentry']:,} customers/s, plain inserts "
        f"{fig['ingest_per_s']['plain_inserts']:,} rows/s; segmentry with no segments "
        f"{fig['ingest_per_s']['segmentry_no_segments']:,} customers/s, so the "
        f"{sizes['ingest_segments']:,} segments keep {fig['ingest_vs_no_segments']} of that "
        "rate (not a target). Fallbacks to the vectorised pass: "
        f"{sizes['fallbacks_mixed']:,} of {sizes['events']:,} mixed updates, "
        f"{sizes['fallbacks_worst_case']:,} of {sizes['events'] // 2:,} on the worst-case schema.",
        "",
        *_web_line(fig),
        *_delivery_lines(fig),
        *_listing_line(fig),
        *_serving_lines(fig),
        *order_report.lines(fig),
        "What limits each figure, with the profiles: [`bench/README.md`](README.md).",
        "",
    ]
    return "\n".join(lines)
