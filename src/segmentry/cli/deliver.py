"""``segmentry deliver``: the delivery workers alone (webhooks, and NATS with
``--nats``), sharing the work with every other process on the same database."""

from __future__ import annotations

import os
import signal
import sys
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
    until_stdin_closes: Annotated[
        bool,
        typer.Option(
            "--until-stdin-closes",
            hidden=True,
            help="Also stop when stdin reaches its end (serve's child: its server is gone).",
        ),
    ] = False,
) -> None:
    """Deliver webhooks (and publish to NATS) until stopped with Ctrl-C or SIGTERM."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if until_stdin_closes:
        threading.Thread(target=_stop_at_end_of_stdin, args=(stop,), daemon=True).start()
    with opened(db) as segmentry:
        delivery = running.start(
            segmentry.database,
            allow_private_webhooks=allow_private_webhooks,
            nats_url=nats,
            concurrency=concurrency,
        )
        if until_stdin_closes:
            typer.echo(f"delivery process {os.getpid()} started", err=True)
        else:
            typer.echo("delivering; stop with Ctrl-C", err=True)
        try:
            stop.wait()
        finally:
            delivery.stop()


def _stop_at_end_of_stdin(stop: threading.Event) -> None:
    """The server that started this process holds the other end of stdin and writes
    nothing: the end comes when it closes it, or when it is gone, even killed. Read
    from the descriptor: sys.stdin's buffer holds a lock while it waits, and Python,
    ending, aborts when a daemon thread holds it."""
    while os.read(sys.stdin.fileno(), 4096):
        pass
    stop.set()
