"""``segmentry demo``: a fresh SQLite file with the demo shop, served on localhost.

The set-up (``segmentry.synthetic.demo.build_demo``) and the serving step are
split so tests drive the same code path on a free port.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from segmentry.cli.http_head import serve as serve_app
from segmentry.cli.options import opened
from segmentry.cli.output import err, line, table
from segmentry.cli.server import build_app, delivering
from segmentry.engine.segmentry import Segmentry
from segmentry.synthetic.demo import CUSTOMERS, PRODUCTS, DemoShop, build_demo

SQLITE_MAGIC = b"SQLite format 3\x00"
SIDE_FILES = ("-wal", "-shm", "-journal")


def demo(
    db: Annotated[
        Path, typer.Option("--db", help="The SQLite file to create (replaced if it exists).")
    ] = Path("demo.db"),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    products: Annotated[int, typer.Option(min=1, help="How many products.")] = PRODUCTS,
    customers: Annotated[int, typer.Option(min=1, help="How many customers.")] = CUSTOMERS,
    orders: Annotated[
        int | None,
        typer.Option(min=0, help="How many orders (default: 1 for every 4 customers)."),
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the shop once it is built.")
    ] = True,
) -> None:
    """Build a realistic demo shop in a fresh SQLite file and serve it until stopped."""
    if serve:
        _check_port(host, port)
    _fresh(db)
    started = time.perf_counter()
    with opened(f"sqlite:///{db}") as segmentry:
        built = _build(segmentry, products, customers, orders)
        _summary(built, db, time.perf_counter() - started)
        if serve:
            _serve(segmentry, built, host, port)
        else:
            line(f"Serve it with: segmentry serve --db sqlite:///{db}")
            _key(built)


def _check_port(host: str, port: int) -> None:
    """Refuse a busy port before spending the set-up time, not after."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise typer.BadParameter(
                f"cannot listen on {host}:{port} ({exc.strerror}); pass another --port",
                param_hint="--port",
            ) from None


def _fresh(db: Path) -> None:
    """Remove an earlier demo file, but never a file that is not a SQLite database."""
    if db.is_dir():
        raise typer.BadParameter(f"{db} is a folder; give a file path", param_hint="--db")
    if not db.exists():
        line(f"Creating the demo shop in {db}.")
        return
    with db.open("rb") as existing:
        head = existing.read(len(SQLITE_MAGIC))
    if head and head != SQLITE_MAGIC:
        raise typer.BadParameter(
            f"{db} exists and is not a SQLite database; it is left alone", param_hint="--db"
        )
    line(f"Replacing the existing {db} with a fresh demo shop.")
    for path in [db, *(db.with_name(db.name + side) for side in SIDE_FILES)]:
        path.unlink(missing_ok=True)


def _build(segmentry: Segmentry, products: int, customers: int, orders: int | None) -> DemoShop:
    bar = Progress(TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(),
                   console=err())  # fmt: skip
    tasks: dict[str, TaskID] = {}

    def step(what: str, done: int, total: int) -> None:
        if what not in tasks:
            tasks[what] = bar.add_task(what, total=total)
        bar.update(tasks[what], completed=done)

    with bar:
        return build_demo(
            segmentry, products=products, customers=customers, orders=orders, progress=step
        )


def _summary(built: DemoShop, db: Path, seconds: float) -> None:
    line(
        f"Built {built.products:,} products, {built.customers:,} customers and "
        f"{built.orders:,} orders in {seconds:.1f} s ({db})."
    )
    used = {code for code, _ in built.uses}
    rows = [
        (s.code, s.kind, s.type, s.rule_text or "(members by hand)", s.member_count,
         "yes" if s.code in used else None)
        for s in built.segments
    ]  # fmt: skip
    table("Demo segments", ["code", "kind", "type", "rule", "members", "used"], rows)


def _serve(segmentry: Segmentry, built: DemoShop, host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    line(f"API docs:  {base}/docs")
    line(f"Web page:  {base}/")
    line("Serving until stopped (Ctrl+C).")
    _key(built)
    segmentry.start_scheduler()
    app = build_app(segmentry)
    # Webhooks made in the demo are delivered as by `segmentry serve`: by a child process.
    delivering(app, segmentry, allow_private_webhooks=False, nats_url=None)
    serve_app(app, host=host, port=port, log_level="warning")


def _key(built: DemoShop) -> None:
    line(f"Demo API key of tenant {built.tenant_id} (Authorization: Bearer <key>):")
    typer.echo(built.api_key)
