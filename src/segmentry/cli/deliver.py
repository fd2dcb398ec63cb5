"""``segmentry deliver``: the delivery workers alone (webhooks, and NATS with
``--nats``), sharing the work with every other process on the same database."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from segmentry.cli.options import DEFAULT_DB, DbOption, opened
from segmentry.engine.delivery import running

AllowPrivateOption = Annotated[
    bool,
    typer.Option(
        "--allow-private-webhooks",
        envvar="SEGMENTRY_ALLOW_PRIVATE_WEBHOOKS",
        help="Accept webhook URLs on private, loopback and link-local addresses.",
    ),
]
NatsOption = Annotated[
    str | None,
    typer.Option(
        "--nats",
        envvar="SEGMENTRY_NATS",
        help="Also publish every event to NATS JetStream at this URL (nats://host:4222).",
        show_default=False,
    ),
]


def deliver(
    db: DbOption = DEFAULT_DB,
    allow_private_webhooks: AllowPrivateOption = False,
    nats: NatsOption = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=1_000, help="Webhooks served at once.")
    ] = 64,
) -> None:
    """Deliver webhooks (and publish to NATS) until stopped with Ctrl-C or SIGTERM."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with opened(db) as segmentry:
        delivery = running.start(
            segmentry.database,
            allow_private_webhooks=allow_private_webhooks,
            nats_url=nats,
            concurrency=concurrency,
        )
        typer.echo("delivering; stop with Ctrl-C", err=True)
        try:
            stop.wait()
        finally:
            delivery.stop()
