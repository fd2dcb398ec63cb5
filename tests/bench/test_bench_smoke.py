"""The benchmark suite runs end to end at a tiny size: every figure is present, and
the three ways of answering an update (index, predicates, vectorised pass) agreed
on every event (``bench.reverse.run`` raises if they ever differ)."""

from __future__ import annotations

import json

import pytest
from bench.__main__ import run
from bench.ingest_profile import STEPS, profile, table
from bench.report import markdown

FIGURES = {
    "forward_vs_sqlite",
    "forward_vs_floor",
    "reverse_vs_naive",
    "reverse_vs_vectorised",
    "recount_vs_scan",
    "ingest_rate",
    "ingest_vs_no_segments",
    "sizes",
    "medians_ms",
    "bandwidth_gb_s",
    "delivery_lag_ms",
    "writes_with_delivery_vs_without",
    "listing_vs_preview",
    "listing_vs_sqlite_json",
    "cold_tenant_load",
    "resident_bytes_per_customer",
    "resident_bytes_per_membership",
    "write_p99_vs_plain",
    "read_scaling_2_workers",
    "order_ingest_rate",
    "order_ingest_vs_no_segments",
    "order_state_bytes_per_line",
    "behaviour_forward_vs_duckdb",
    "behaviour_update_vs_recompute",
}


def test_a_tiny_run_reports_every_figure_as_a_positive_ratio() -> None:
    sizes = {"customers": 5_000, "segments": 300, "events": 60, "ingest": 600}
    figures = run(sizes, log=lambda _: None, ingest_segments=40)
    assert set(figures) >= FIGURES
    assert set(figures["reverse_vs_naive"]) == {"mean", "p99"}  # type: ignore[arg-type]
    assert set(figures["reverse_vs_vectorised"]) == {"mean", "worst_case_schema"}  # type: ignore[arg-type]
    ratios = ("forward_vs_sqlite", "forward_vs_floor", "recount_vs_scan", "ingest_rate",
              "listing_vs_preview", "listing_vs_sqlite_json",
              "cold_tenant_load", "write_p99_vs_plain", "read_scaling_2_workers",
              "order_ingest_rate")  # fmt: skip
    for name in (*ratios, "ingest_vs_no_segments", "order_ingest_vs_no_segments"):
        assert figures[name] > 0, name  # type: ignore[operator]
    json.loads(json.dumps(figures))  # one JSON object
    assert figures["writes_with_delivery_vs_without"] > 0  # type: ignore[operator]
    table = markdown(figures)
    assert "`writes_with_delivery_vs_without`" in table
    assert "| `forward_vs_sqlite` |" in table
    assert "| `ingest_rate` |" in table
    assert "`listing_vs_preview`" in table
    assert "| `read_scaling_2_workers` |" in table
    assert "| `order_ingest_rate` |" in table
    assert figures["order_state_bytes_per_line"] > 0  # type: ignore[operator]
    assert figures["order_ingest"]["behavioural_segments"] == 8  # type: ignore[index]
    pairs = (("behaviour_forward_vs_duckdb", "behaviour_forward_skipped"),
             ("behaviour_update_vs_recompute", "behaviour_update_skipped"))  # fmt: skip
    for name, skipped in pairs:
        if figures[name] is None:  # the language or evaluator cannot run them yet: said why
            assert f"`{name}`: not measured: {figures[skipped]}" in table
        else:
            assert figures[name] > 0, name  # type: ignore[operator]
            assert f"| `{name}` |" in table


def test_the_ingest_profile_times_every_step_of_an_import() -> None:
    originals = [getattr(owner, name) for _, _, owner, name in STEPS]
    micros = profile(600, segment_count=40)
    steps = list(dict.fromkeys(step for _, step, *_ in STEPS))  # two functions may share one
    assert all(micros[step] > 0 for step in steps), micros  # every wrapped step ran
    assert micros["total"] == pytest.approx(sum(micros[s] for s in steps) + micros["rest"])
    assert micros["plain"] > 0
    assert "| peer | plain insert, per row |" in table(micros)
    assert [getattr(owner, name) for _, _, owner, name in STEPS] == originals
