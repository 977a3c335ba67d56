"""`POST /imports` and `GET /imports/{id}`: a file of customers, applied in the background.

The body is streamed to a file in the data directory as it arrives (a 100 MB upload is
never held in memory), its header checked, and the import recorded and started: 202 with
its id. Progress is read from the import's own events.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import PathParameter, QueryParameter

from shared.errors import (
    FieldError,
    MalformedRequest,
    NotFound,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
)
from shared.http.auth import Caller, requires
from shared.http.limits import MAX_IMPORT_BYTES
from shared.http.openapi import problems
from shared.http.types import HTTPRequest
from shared.principal import Permission
from write_side.application.imports import ImportCommands
from write_side.imports.rows import BadFile, check_start, first_line

MEDIA_TYPES = {"text/csv": "csv", "application/x-ndjson": "ndjson"}


@dataclass
class ImportOperation(Operation):
    """`POST /imports` reads its body as a stream (never decoded whole), so Litestar cannot
    infer it: the document declares it here, a CSV or NDJSON text."""

    def __post_init__(self) -> None:
        text = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, min_length=1))
        self.request_body = RequestBody(
            content=dict.fromkeys(MEDIA_TYPES, text),
            required=True,
            description="A CSV file with a header row, or one JSON object per line.",
        )


Imports = NamedDependency[ImportCommands]


class ImportAccepted(msgspec.Struct, rename="camel"):
    """The answer to `POST /imports`."""

    id: str
    status: str


class RowFailure(msgspec.Struct):
    """A row that failed: its physical line (the CSV header is line 1), field and rule."""

    line: int
    field: str
    message: str


class ImportProgress(msgspec.Struct, rename="camel"):
    """`GET /imports/{id}`: counts so far; `total` is the file's data lines (an estimate of
    its rows: blank lines and quoted line breaks count too), `line` the last line applied."""

    id: str
    status: str
    dry_run: bool
    format: str
    total: int
    line: int
    processed: int
    created: int
    updated: int
    unchanged: int
    failed: int
    errors: list[RowFailure]
    reason: str | None = None


class ImportsController(Controller):
    """Bulk import of customers from CSV or NDJSON."""

    path = "/imports"
    tags = ["imports"]
    guards = [requires(Permission.WRITE)]

    @post(
        "/",
        operation_id="startImport",
        summary="Import customers from CSV (header row) or NDJSON",
        status_code=202,
        request_max_body_size=MAX_IMPORT_BYTES,
        operation_class=ImportOperation,
        responses=problems(400, 401, 403, 413, 415, 422, 429, 503),
    )
    async def start_import(
        self,
        request: HTTPRequest,
        principal: Caller,
        imports: Imports,
        dry_run: Annotated[bool, QueryParameter(name="dryRun", required=False)] = False,
    ) -> Response[ImportAccepted]:
        """Rows are matched by `externalId`, then email; each creates or updates a customer."""
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        file_format = MEDIA_TYPES.get(media)
        if file_format is None:
            raise UnsupportedMediaType(
                "An import is text/csv (with a header row) or application/x-ndjson.",
                errors=[FieldError("Content-Type", "must be text/csv or application/x-ndjson")],
            )
        spooled = imports.uploads / f".{uuid.uuid4()}.part"
        try:
            lines = await _spool(request, spooled)
            first = await asyncio.to_thread(_first_line, spooled)
            _check_start(file_format, first)
            total = lines - 1 if file_format == "csv" else lines
            job = await imports.start(
                principal, file_format, dry_run=dry_run, total=max(total, 0), spooled=spooled
            )
        finally:
            spooled.unlink(missing_ok=True)
        imports.launch(job)
        return Response(
            ImportAccepted(id=str(job.id), status=job.status),
            status_code=202,
            headers={"Location": f"/imports/{job.id}"},
        )

    @get(
        "/{import_id:str}",
        operation_id="getImport",
        summary="An import's progress and errors",
        responses=problems(400, 401, 403, 404, 429),
    )
    async def get_import(
        self,
        principal: Caller,
        import_id: Annotated[str, PathParameter(max_length=36)],
        imports: Imports,
    ) -> ImportProgress:
        """Counts so far (while running, after a restart, and once done or failed)."""
        try:
            parsed = uuid.UUID(import_id)
        except ValueError:
            raise NotFound("No import with this id.") from None
        job = await imports.status(principal.tenant_id, parsed)
        return msgspec.convert(job.summary(), ImportProgress)


async def _spool(request: HTTPRequest, target: Path) -> int:
    """Write the body to `target` as it arrives; the number of lines it holds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = 0
    last = b"\n"
    handle = await asyncio.to_thread(target.open, "wb")
    try:
        async for chunk in request.stream():
            if chunk:
                lines += chunk.count(b"\n")
                last = chunk[-1:]
                await asyncio.to_thread(handle.write, chunk)
    except OSError as error:
        raise ServiceUnavailable("The import file could not be stored.", retry_after=5) from error
    finally:
        await asyncio.to_thread(handle.close)
    return lines + (0 if last == b"\n" else 1)


def _first_line(path: Path) -> bytes | None:
    with path.open("rb") as stream:
        return first_line(stream)


def _check_start(file_format: str, first: bytes | None) -> None:
    """A file that cannot be imported at all: 400 when empty (the document asks for a
    non-empty body), 422 for a header that breaks the rules the document cannot express."""
    try:
        check_start(file_format, first)
    except BadFile as error:
        refusal = MalformedRequest if error.field == "body" else ValidationFailed
        raise refusal(str(error), errors=[FieldError(error.field, str(error))]) from None
