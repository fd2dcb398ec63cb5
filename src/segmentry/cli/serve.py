"""``segmentry serve``: the HTTP API and the web page on one port."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from segmentry.cli import delivery_process
from segmentry.cli.deliver import AllowPrivateOption, NatsOption
from segmentry.cli.delivery_process import DeliveryMode
from segmentry.cli.http_head import serve as serve_app
from segmentry.cli.options import DEFAULT_DB, DbOption, opened, reported
from segmentry.cli.server import (
    BUDGET_VARIABLE,
    DB_VARIABLE,
    DELIVERY_VARIABLE,
    FACTORY,
    NATS_VARIABLE,
    PRIVATE_VARIABLE,
    build_app,
    delivering,
)
from segmentry.engine.residency import parse_size

BudgetOption = Annotated[
    str | None,
    typer.Option(
        "--memory-budget",
        envvar=BUDGET_VARIABLE,
        help="Memory for tenants' states per process, e.g. 512M or 4G; the least recently "
        "used are dropped beyond it (default: a quarter of physical memory).",
        show_default=False,
    ),
]
DeliveryOption = Annotated[
    DeliveryMode,
    typer.Option(
        "--delivery",
        envvar="SEGMENTRY_DELIVERY",
        help="Where webhooks (and NATS) are delivered: a child process (one for all "
        "--workers), threads of each server process, or none (a separate segmentry "
        "deliver does it).",
    ),
]


def serve(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    allow_private_webhooks: AllowPrivateOption = False,
    nats: NatsOption = None,
    delivery: DeliveryOption = DeliveryMode.PROCESS,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes sharing the database and the port.")
    ] = 1,
    memory_budget: BudgetOption = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Serve the API (/v1, docs at /docs) and the web page (/) until stopped; webhooks
    (and NATS with --nats) are delivered in the background, by default in a child process."""
    with reported():
        budget = parse_size(memory_budget) if memory_budget else None
    with opened(db, memory_budget=budget) as segmentry:
        segmentry.sweep()  # time that passed while stopped, before the first request
        if workers == 1:
            segmentry.start_scheduler()
            app = build_app(segmentry, allow_private_webhooks=allow_private_webhooks)
            delivering(app, segmentry, mode=delivery,
                       allow_private_webhooks=allow_private_webhooks, nats_url=nats)  # fmt: skip
            serve_app(app, host=host, port=port, log_level="info", access_log=access_log)
            return
    # Each worker opens the database itself (a Segmentry is not shared across processes).
    os.environ[DB_VARIABLE] = db
    if memory_budget:
        os.environ[BUDGET_VARIABLE] = memory_budget
    os.environ[PRIVATE_VARIABLE] = "1" if allow_private_webhooks else "0"
    if nats:
        os.environ[NATS_VARIABLE] = nats
    # One delivery process for the whole server, not one per worker: the workers
    # deliver nothing themselves. uvicorn's parent process returns when stopped.
    # Where the child cannot see the database, the workers deliver in threads instead.
    child = None
    if delivery is DeliveryMode.PROCESS:
        child = delivery_process.started_child(
            db, allow_private_webhooks=allow_private_webhooks, nats_url=nats
        )
    os.environ[DELIVERY_VARIABLE] = (
        DeliveryMode.NONE
        if child is not None or delivery is DeliveryMode.NONE
        else DeliveryMode.THREAD
    )
    try:
        serve_app(
            FACTORY, host=host, port=port, log_level="info", access_log=access_log,
            factory=True, workers=workers,
        )  # fmt: skip
    finally:
        if child is not None:
            child.stop()
