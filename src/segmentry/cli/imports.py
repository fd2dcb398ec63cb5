"""``segmentry import``: stream a CSV or JSON Lines file into the shop.

The library applies the file in batches, each all or nothing, and reports
every rejected line with its number; this command shows a progress bar of
the bytes read and then a summary: counts, the applied line ranges, and the
first rejected lines.
"""

from __future__ import annotations

import gzip
from contextlib import AbstractContextManager, nullcontext
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from segmentry.cli.options import DEFAULT_DB, DbOption, JsonOption, TenantOption, shop_of
from segmentry.cli.output import emit_json, err, line
from segmentry.engine import imports
from segmentry.engine.import_readers import ImportFormat
from segmentry.engine.imports import ImportReport, ImportStatus
from segmentry.engine.shop import Shop
from segmentry.model.schema import Kind

SHOWN_ERRORS = 20
EXTENSIONS = {
    ".csv": ImportFormat.CSV,
    ".ndjson": ImportFormat.NDJSON,
    ".jsonl": ImportFormat.NDJSON,
}


class ImportKind(StrEnum):
    PRODUCTS = "products"
    CUSTOMERS = "customers"
    ORDERS = "orders"

    @property
    def kind(self) -> Kind:
        return {
            ImportKind.PRODUCTS: Kind.PRODUCT,
            ImportKind.CUSTOMERS: Kind.CUSTOMER,
            ImportKind.ORDERS: Kind.ORDER,
        }[self]


def import_file(
    what: Annotated[ImportKind, typer.Argument(help="What the file holds.", metavar="KIND")],
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, metavar="FILE", help="The file to import."
        ),
    ],
    fmt: Annotated[
        ImportFormat | None,
        typer.Option("--format", help="csv or ndjson (default: from the file's extension)."),
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="Rename a column: SOURCE=TARGET (repeatable); SOURCE= ignores the column.",
            metavar="SOURCE=TARGET",
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Lines per transaction (1 to 10,000).")
    ] = imports.DEFAULT_BATCH,
    max_errors: Annotated[
        int,
        typer.Option(
            "--max-errors",
            min=0,
            help="Stop after this many rejected lines (orders only; other imports stop "
            f"after {imports.MAX_ERRORS:,}).",
        ),
    ] = imports.MAX_ERRORS,
    date_format: Annotated[
        str | None,
        typer.Option(
            "--date-format",
            help="Orders from CSV: a strptime format of the placed_at column, e.g. "
            "'%m/%d/%Y %H:%M' for 12/1/2010 8:26 (default: ISO 8601).",
        ),
    ] = None,
    tenant: TenantOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Import products, customers or orders (a file may be gzipped: FILE.csv.gz); exits 1
    when a line was rejected or the import stopped."""
    chosen = fmt or format_of(file)
    columns = parse_mapping(mapping or [])
    with shop_of(db, tenant) as shop:
        report = _run(
            shop,
            what.kind,
            file,
            chosen,
            columns,
            (batch_size, max_errors),
            quiet=as_json,
            date_format=date_format,
        )
    if as_json:
        emit_json(report_doc(report))
    else:
        show_report(report, file)
    if report.status is not ImportStatus.DONE or report.rejected:
        raise typer.Exit(1)


def format_of(file: Path) -> ImportFormat:
    plain = file.with_suffix("") if file.suffix.lower() == ".gz" else file
    found = EXTENSIONS.get(plain.suffix.lower())
    if found is None:
        raise typer.BadParameter(
            f"cannot tell the format of {file.name!r} from its extension; "
            "pass --format csv or --format ndjson",
            param_hint="FILE",
        )
    return found


def parse_mapping(pairs: list[str]) -> dict[str, str | None]:
    """``["a=id", "junk="]`` as ``{"a": "id", "junk": None}``."""
    columns: dict[str, str | None] = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source.strip():
            raise typer.BadParameter(
                f"{pair!r} is not SOURCE=TARGET (or SOURCE= to ignore a column)",
                param_hint="--map",
            )
        columns[source.strip()] = target.strip() or None
    return columns


def _run(
    shop: Shop,
    kind: Kind,
    file: Path,
    fmt: ImportFormat,
    columns: dict[str, str | None],
    limits: tuple[int, int],
    *,
    quiet: bool,
    date_format: str | None = None,
) -> ImportReport:
    """The import, with a progress bar of bytes read on stderr unless ``quiet``."""
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err(),
        disable=quiet,
    )
    batch_size, max_errors = limits
    gzipped = file.suffix.lower() == ".gz"
    with bar, file.open("rb") as raw, _opened(raw, gzipped=gzipped) as source:
        # Bytes read are counted after decompression: a gzipped file's size is no total.
        task = bar.add_task(f"{kind}s", total=None if gzipped else file.stat().st_size)

        def advance(p: imports.Progress) -> None:
            bar.update(task, completed=p.bytes_read, description=f"{p.lines:,} lines")

        if kind is Kind.ORDER:
            return shop.import_orders(
                source,
                fmt,
                columns=columns,
                batch_size=batch_size,
                max_errors=max_errors,
                progress=advance,
                date_format=date_format,
            )
        return shop.import_file(
            kind, source, fmt, columns=columns, batch_size=batch_size, progress=advance
        )


def _opened(raw: IO[bytes], *, gzipped: bool) -> AbstractContextManager[IO[bytes]]:
    if gzipped:
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]  # an IO[bytes]
    return nullcontext(raw)


def report_doc(report: ImportReport) -> dict[str, object]:
    return {
        "import_id": report.import_id,
        "kind": report.kind,
        "format": report.format,
        "status": report.status,
        "lines": report.lines,
        "applied": report.applied,
        "rejected": report.rejected,
        "last_line": report.last_line,
        "applied_lines": [list(r) for r in report.applied_lines],
        "errors": [{"line": e.line, "message": e.message} for e in report.errors],
        "error": report.error,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
    }


def show_report(report: ImportReport, file: Path) -> None:
    line(
        f"Import {report.import_id} of {report.kind}s from {file.name}: {report.status}; "
        f"{report.lines:,} lines read, {report.applied:,} applied, {report.rejected:,} rejected."
    )
    if report.applied_lines:
        line(f"Applied lines: {ranges(report.applied_lines)}")
    if report.errors:
        shown = report.errors[:SHOWN_ERRORS]
        total = len(report.errors)
        line(f"Rejected lines (the first {len(shown)} of {total:,}):" if total > len(shown)
             else "Rejected lines:")  # fmt: skip
        for error in shown:
            line(f"  line {error.line}: {error.message}")
    if report.error:
        line(f"The import stopped: {report.error}")


def ranges(spans: list[tuple[int, int]]) -> str:
    """``[(2, 5), (7, 7)]`` as ``2-5, 7``."""
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
