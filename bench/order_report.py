"""The order and behaviour figures of a run: measured, then as JSON and Markdown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import behaviour, orders

Log = Callable[[str], None]
ROWS = ("order_ingest_rate", "behaviour_forward_vs_duckdb", "behaviour_update_vs_recompute")
TARGETS = {
    "order_ingest_rate": "≥ 0.2",
    "behaviour_forward_vs_duckdb": "≥ 1",
    "behaviour_update_vs_recompute": "≥ 100",
}
QUICK = {
    "orders": 10_000,
    "order_lines": 200_000,
    "behaviour_customers": 100_000,
    "behaviour_lines": 1_000_000,
    "behaviour_orders": 10_000,
}
FULL = {
    "orders": 50_000,
    "order_lines": 1_000_000,
    "behaviour_customers": 1_000_000,
    "behaviour_lines": 10_000_000,
    "behaviour_orders": 50_000,
}
TINY = {  # what a run given none of these sizes takes: the smoke test's
    "orders": 600,
    "order_lines": 2_000,
    "behaviour_customers": 2_000,
    "behaviour_lines": 4_000,
    "behaviour_orders": 600,
}


def _ms(seconds: float) -> float:
    return round(seconds * 1e3, 4)


def run(sizes: dict[str, int], log: Log, segment_count: int) -> dict[str, Any]:
    size = {key: sizes.get(key, tiny) for key, tiny in TINY.items()}
    log(f"orders: {size['orders']:,} orders under {segment_count:,} segments vs plain inserts")
    ingest = orders.run_ingest(size["orders"], segment_count)
    log(f"orders: the order state holding {size['order_lines']:,} lines")
    state = orders.run_state(size["order_lines"])
    log(f"behaviour: {behaviour.RULE} vs DuckDB")
    forward = behaviour.run_forward(size["behaviour_customers"], size["behaviour_lines"])
    log(f"behaviour: one order under {segment_count:,} behavioural segments vs GROUP BY")
    update = behaviour.run_update(
        max(500, size["behaviour_orders"] // 2), size["behaviour_orders"], segment_count
    )
    return _ingest(ingest) | _state(state) | _forward(forward) | _update(update)


def _ingest(result: orders.OrderIngestResult) -> dict[str, Any]:
    return {
        "order_ingest_rate": round(result.ratio, 3),
        "order_ingest_vs_no_segments": round(result.segmentry_per_s / result.no_segments_per_s, 3),
        "order_ingest": {
            "orders": result.orders,
            "lines": result.lines,
            "segments": result.segments,
            "behavioural_segments": result.behavioural,
            "behavioural_rules": "behaviour functions"
            if result.behaviour_functions
            else "stand-ins on order-derived attributes",
            "segmentry_orders_per_s": round(result.segmentry_per_s),
            "plain_orders_per_s": round(result.plain_per_s),
            "no_segments_orders_per_s": round(result.no_segments_per_s),
        },
    }


def _state(result: orders.OrderStateResult) -> dict[str, Any]:
    return {
        "order_state_bytes_per_line": round(result.array_bytes_per_line, 1),
        "order_state": {
            "lines": result.lines,
            "orders": result.orders,
            "array_bytes": result.array_bytes,
            "rss_bytes_per_line": round(result.rss_bytes_per_line, 1),
            "array_mb_per_1m_lines": round(result.array_bytes_per_line, 1),
        },
    }


def _forward(result: behaviour.BehaviourForwardResult | str) -> dict[str, Any]:
    if isinstance(result, str):
        return {"behaviour_forward_vs_duckdb": None, "behaviour_forward_skipped": result}
    return {
        "behaviour_forward_vs_duckdb": round(result.ratio, 2),
        "behaviour_forward": {
            "rule": behaviour.RULE,
            "customers": result.customers,
            "lines": result.lines,
            "members": result.members,
            "segmentry_ms": _ms(result.segmentry_s),
            "duckdb_ms": _ms(result.duckdb_s),
        },
    }


def _update(result: behaviour.BehaviourUpdateResult | str) -> dict[str, Any]:
    if isinstance(result, str):
        return {"behaviour_update_vs_recompute": None, "behaviour_update_skipped": result}
    return {
        "behaviour_update_vs_recompute": round(result.ratio, 1),
        "behaviour_update": {
            "segments": result.segments,
            "orders": result.orders,
            "order_ms": _ms(result.order_s),
            "recompute_ms": _ms(result.recompute_s),
        },
    }


def rows(fig: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """The table's rows: only the figures this run measured."""
    return [(name, fig[name], TARGETS[name]) for name in ROWS if fig.get(name) is not None]


def lines(fig: dict[str, Any]) -> list[str]:
    if "order_ingest" not in fig:
        return []
    ingest, state = fig["order_ingest"], fig["order_state"]
    out = [
        f"Orders: {ingest['orders']:,} orders ({ingest['lines']:,} lines) through "
        f"`Shop.put_orders` under {ingest['segments']:,} segments, "
        f"{ingest['behavioural_segments']:,} of them behavioural "
        f"({ingest['behavioural_rules']}): {ingest['segmentry_orders_per_s']:,} orders/s "
        f"against {ingest['plain_orders_per_s']:,} for plain SQLAlchemy Core inserts of the same "
        f"orders and lines (`order_ingest_rate` {fig['order_ingest_rate']}, target ≥ 0.2); "
        f"{ingest['no_segments_orders_per_s']:,} orders/s into a shop with no segments, so "
        f"the segments keep {fig['order_ingest_vs_no_segments']} of that rate (not a target).",
        "",
        f"Order state: {fig['order_state_bytes_per_line']} B per line of arrays, indexes and "
        f"order records (`Purchases.array_bytes()`, {state['lines']:,} lines in "
        f"{state['orders']:,} orders), so {state['array_mb_per_1m_lines']} MB per million "
        f"lines; the process grew by {state['rss_bytes_per_line']} B per line (RSS).",
        "",
    ]
    for name, skipped in (
        ("behaviour_forward_vs_duckdb", "behaviour_forward_skipped"),
        ("behaviour_update_vs_recompute", "behaviour_update_skipped"),
    ):
        if skipped in fig:
            out += [f"`{name}`: not measured: {fig[skipped]}.", ""]
    if "behaviour_forward" in fig:
        f = fig["behaviour_forward"]
        out += [
            f"Behaviour preview: `{f['rule']}` over {f['customers']:,} customers and "
            f"{f['lines']:,} lines ({f['members']:,} members) in {f['segmentry_ms']} ms, DuckDB "
            f"{f['duckdb_ms']} ms (`behaviour_forward_vs_duckdb` "
            f"{fig['behaviour_forward_vs_duckdb']}, target ≥ 1).",
            "",
        ]
    if "behaviour_update" in fig:
        u = fig["behaviour_update"]
        out += [
            f"Behaviour update: one order under {u['segments']:,} behavioural segments "
            f"({u['orders']:,} orders stored) in {u['order_ms']} ms, recomputing the segments "
            f"with `GROUP BY` {u['recompute_ms']} ms (`behaviour_update_vs_recompute` "
            f"{fig['behaviour_update_vs_recompute']}, target ≥ 100).",
            "",
        ]
    return out
