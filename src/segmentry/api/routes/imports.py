"""Imports of CSV and JSON Lines files, and the record of each import."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from segmentry.api import render
from segmentry.api.auth import ShopDep
from segmentry.api.bodies import ImportOut
from segmentry.api.idempotency import REPLAYED, KeyHeader, once_for
from segmentry.api.json_route import JsonRoute
from segmentry.api.problems import described, problem
from segmentry.api.uploads import Upload, spooled
from segmentry.engine.entities import MAX_BATCH
from segmentry.engine.import_readers import ImportFormat
from segmentry.engine.imports import DEFAULT_BATCH, ImportReport, ImportStatus
from segmentry.engine.shop import Shop
from segmentry.errors import ValidationError
from segmentry.model.schema import SEGMENTED_KINDS, Kind

FORMATS = {
    "text/csv": ImportFormat.CSV,
    "application/x-ndjson": ImportFormat.NDJSON,
    "application/jsonl": ImportFormat.NDJSON,
}
UPLOAD_BODY = {
    "required": True,
    "description": "The file: CSV with a header row, or JSON Lines (one entity per line in "
    "the shape of PUT). Streamed to disk, never held in memory.",
    "content": {
        media: {"schema": {"type": "string"}} for media in ("text/csv", "application/x-ndjson")
    },
}
Mapping = Annotated[
    list[str],
    Query(
        alias="map",
        description="Rename a column (CSV) or top-level key (JSON Lines): `map=source:target`, "
        "repeated, e.g. `map=sku_code:sku&map=sale_price:price`.",
    ),
]
Ignored = Annotated[
    list[str], Query(alias="ignore", description="Leave a column out: `ignore=notes`, repeated.")
]
BatchSize = Annotated[
    int, Query(ge=1, le=MAX_BATCH, description="Lines per transaction (all or nothing each).")
]

routes = APIRouter(tags=["Imports"], route_class=JsonRoute)


def import_format(content_type: str | None) -> ImportFormat:
    """The format a ``Content-Type`` names, or 415."""
    media, _, params = (content_type or "").partition(";")
    found = FORMATS.get(media.strip().lower())
    charset = params.strip().lower().removeprefix("charset=").strip('"') if params else "utf-8"
    if found is None or charset not in ("utf-8", "utf8"):
        raise HTTPException(
            415, "send text/csv or application/x-ndjson, in UTF-8 "
            f"(got {content_type or 'no Content-Type'!r})"
        )  # fmt: skip
    return found


def column_mapping(renamed: list[str], ignored: list[str]) -> dict[str, str | None]:
    columns: dict[str, str | None] = dict.fromkeys(ignored)
    for item in renamed:
        source, colon, target = item.rpartition(":")
        if not colon or not source or not target:
            raise ValidationError(f"map={item!r} must be source:target", field="map")
        columns[source] = target
    return columns


def answer(report: ImportReport, replayed: bool | None = None) -> JSONResponse:
    """The report, or for an import that stopped early a 422 problem holding it."""
    headers = {"Location": f"/v1/imports/{report.import_id}"}
    if replayed is not None:
        headers[REPLAYED] = "true" if replayed else "false"
    if report.status is ImportStatus.FAILED:
        detail = f"{report.error}; lines applied before it stay applied (see report)"
        return problem(
            422, "import-stopped", detail, headers=headers, report=render.import_json(report)
        )
    return JSONResponse(render.import_json(report), headers=headers)


async def run_import(
    request: Request, shop: Shop, kind: Kind, upload: Upload, key: str | None, **options: Any
) -> JSONResponse:
    fmt = import_format(request.headers.get("content-type"))
    if key is None:
        report = await run_in_threadpool(shop.import_file, kind, upload.file, fmt, **options)
        return answer(report)
    once = once_for(request, key, upload.sha256)
    done = await run_in_threadpool(shop.import_file_once, kind, upload.file, fmt, once, **options)
    return answer(done.value, done.replayed)


def import_route(kind: Kind) -> Callable[..., Coroutine[Any, Any, JSONResponse]]:
    async def import_file(
        *,
        request: Request,
        shop: ShopDep,
        mapping: Mapping = [],  # noqa: B006  # FastAPI copies defaults
        ignored: Ignored = [],  # noqa: B006
        batch_size: BatchSize = DEFAULT_BATCH,
        key: KeyHeader = None,
    ) -> JSONResponse:
        """Stream a file in, in batches of `batch_size` lines, each one transaction that
        applies every valid line; answers which lines were applied and why any were not.
        With `Idempotency-Key`, a retry replays the first answer and imports nothing."""
        import_format(request.headers.get("content-type"))  # 415 before reading the upload
        columns = column_mapping(mapping, ignored)
        upload = await spooled(request)
        try:
            return await run_import(
                request, shop, kind, upload, key, columns=columns, batch_size=batch_size
            )
        finally:
            upload.file.close()

    return import_file


for _kind in SEGMENTED_KINDS:
    routes.post(
        f"/v1/{_kind.plural}/import",
        response_model=ImportOut,
        responses=described(409, 415),
        summary=f"Import {_kind.plural} from CSV or JSON Lines",
        openapi_extra={"requestBody": UPLOAD_BODY},
        operation_id=f"import_{_kind.plural}",
    )(import_route(_kind))


@routes.get(
    "/v1/imports/{import_id}",
    response_model=ImportOut,
    responses=described(404),
    summary="An import's record",
)
def import_record(
    shop: ShopDep, import_id: Annotated[str, Path(max_length=64, examples=["5f2c9a1e0b3d4c7a"])]
) -> ImportOut:
    """Where an import stands: also after a crash, exactly which lines were applied."""
    return render.import_report(shop.import_report(import_id))
