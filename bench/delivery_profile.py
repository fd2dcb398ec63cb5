"""Where the webhook worker's CPU goes while customers are written: ``python -m
bench.delivery_profile [--customers N] [--writes W]``.

The demo shop and the 20 webhooks of ``writes_with_delivery_vs_without``; W
customers written with no worker, then (after the worker caught up with them)
W more with it, until it caught up again. Printed: writes a second both ways,
the writer thread's CPU per write, the CPU of the process's other threads (the
worker's loop and its database threads) per batch delivered and per event
delivered to one webhook, and the receivers' CPU per batch. CPU time moves less
than wall time on a busy machine, so it compares two trees better than the ratio.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

from bench import delivery
from segmentry.engine.delivery.worker import DeliverySettings, WebhookWorker
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.webhooks import Webhooks, WebhookSpec
from segmentry.synthetic import generate as synthetic
from segmentry.synthetic.demo import build_demo

TICK = os.sysconf("SC_CLK_TCK")


def _cpu(stat: str) -> float:
    fields = Path(stat).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _others_cpu() -> float:
    """CPU seconds of every thread of this process but the calling one."""
    mine = threading.get_native_id()
    total = 0.0
    for task in os.listdir("/proc/self/task"):
        if int(task) != mine:
            try:
                total += _cpu(f"/proc/self/task/{task}/stat")
            except OSError:  # the thread ended meanwhile
                continue
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery_profile")
    parser.add_argument("--customers", type=int, default=8_000)
    parser.add_argument("--writes", type=int, default=2_000)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as folder,
        Segmentry(f"sqlite:///{Path(folder) / 'demo.db'}") as segmentry,
    ):
        demo = build_demo(segmentry, products=2_000, customers=args.customers, orders=0)
        shop = segmentry.shop(demo.tenant_id)
        docs = list(synthetic.customers(args.writes * 2, seed=41).documents())
        for n, doc in enumerate(docs):
            doc["id"] = f"new-{n}"
        receivers = delivery.Receivers()
        hooks = Webhooks(segmentry, demo.tenant_id, allow_private=True)
        for n in range(delivery.WEBHOOKS):
            url = f"http://127.0.0.1:{receivers.port}/hook/{n}"
            hooks.create(WebhookSpec(url=url, kinds=["customer"]))
        try:
            _profile(
                segmentry,
                hooks=hooks,
                shop=shop,
                docs=docs,
                receivers=receivers,
                writes=args.writes,
            )
        finally:
            receivers.close()


def _profile(
    segmentry: Segmentry,
    *,
    hooks: Webhooks,
    shop: object,
    docs: list[dict[str, object]],
    receivers: delivery.Receivers,
    writes: int,
) -> None:
    cpu = time.thread_time()
    without = delivery._write_seconds(shop, docs[:writes])
    writer_without = time.thread_time() - cpu
    # The worker in this process (``serve --delivery thread``), not serve's default
    # child process: its threads' CPU and its batches are counted here.
    worker = WebhookWorker(segmentry.database, DeliverySettings(allow_private=True))
    worker.start()
    delivery._drained(segmentry, hooks)
    told = {"batches": 0, "events": 0}

    def sent(_row: object, events: list[dict[str, object]], _outcome: object) -> None:
        told["batches"] += 1
        told["events"] += len(events)

    worker.sent = sent
    others, received = _others_cpu(), _cpu(f"/proc/{receivers.process.pid}/stat")
    cpu = time.thread_time()
    with_worker = delivery._write_seconds(shop, docs[writes:])
    writer_with = time.thread_time() - cpu
    delivery._drained(segmentry, hooks)
    others = _others_cpu() - others
    received = _cpu(f"/proc/{receivers.process.pid}/stat") - received
    worker.stop()
    batches, events = max(1, told["batches"]), max(1, told["events"])
    print(f"writes/s without {writes / without:,.0f}, with {writes / with_worker:,.0f}")
    print(f"writer CPU ms/write without {writer_without / writes * 1e3:.2f}, ", end="")
    print(f"with {writer_with / writes * 1e3:.2f}")
    print(f"batches {told['batches']:,}, events {told['events']:,}", end=" ")
    print(f"({events / batches:.1f} a batch)")
    print(f"worker CPU ms/batch {others / batches * 1e3:.2f}, µs/event {others / events * 1e6:.1f}")
    print(f"receivers CPU ms/batch {received / batches * 1e3:.2f}")


if __name__ == "__main__":
    main()
