"""`GET /customers/export`: every matching customer, streamed as CSV or JSON Lines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal

from litestar import Controller, get
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from litestar.response import Stream

from read_side.export import CustomerExport
from read_side.export_format import FORMATS, writer_for
from read_side.http.controller import ATTR_ITEM, AccessPurpose, Text
from read_side.http.params import STATES, TYPES, Token, build_query, instant, instant_parameter
from read_side.ports import ListQuery
from read_side.records import CustomerRecords
from read_side.views import CustomerDoc
from shared.http.auth import requires
from shared.http.openapi import problems
from shared.http.types import HTTPRequest
from shared.principal import Permission, Principal

#: Documents per written chunk: large enough to amortise the writes, small enough to stay flat.
CHUNK = 200
Exports = NamedDependency[CustomerExport]
Records = NamedDependency[CustomerRecords]


def provide_export(request: HTTPRequest) -> CustomerExport:
    """The export use case (set up by the composition root)."""
    export: CustomerExport = request.app.state.export
    return export


class ExportController(Controller):
    """Bulk export for auditors (a tenant's data, one access-audit entry per export)."""

    path = "/export"
    tags = ["customers: queries"]
    dependencies = {"export": Provide(provide_export, sync_to_thread=False)}

    @get(
        "/",
        operation_id="exportCustomers",
        summary="Export every matching customer (CSV or JSON Lines, streamed)",
        guards=[requires(Permission.AUDIT)],
        responses=problems(400, 401, 403, 422, 429, 503),
        response_headers=[
            ResponseHeader(
                name="X-Consistency-Token",
                description="The log position the whole export reflects (its snapshot); send "
                "it to later queries to read at least that state.",
                documentation_only=True,
                required=True,
            )
        ],
        media_type="text/csv",
    )
    async def export_customers(
        self,
        request: HTTPRequest,
        export: Exports,
        records: Records,
        consistency_token: Token = None,
        format_: Annotated[
            Literal["csv", "jsonl"], QueryParameter(name="format", required=False)
        ] = "csv",
        q: Text = None,
        type_: Annotated[
            str | None,
            QueryParameter(name="type", required=False, schema_extra={"enum": list(TYPES)}),
        ] = None,
        state_: Annotated[
            str, QueryParameter(name="state", required=False, schema_extra={"enum": list(STATES)})
        ] = "active",
        email: Text = None,
        phone: Text = None,
        tag: Annotated[list[str] | None, QueryParameter(required=False, max_items=20)] = None,
        attr: Annotated[
            list[str] | None,
            QueryParameter(required=False, max_items=20, schema_extra={"items": ATTR_ITEM}),
        ] = None,
        consent: Text = None,
        created_from: Annotated[str | None, instant_parameter("createdFrom")] = None,
        created_to: Annotated[str | None, instant_parameter("createdTo")] = None,
        external_id: Annotated[
            str | None, QueryParameter(name="externalId", required=False, max_length=100)
        ] = None,
        purpose: AccessPurpose = None,
    ) -> Stream:
        """Every matching customer as of one log position (`X-Consistency-Token`),
        oldest first; one access-audit entry with the count."""
        principal = request.user
        assert isinstance(principal, Principal)
        query = build_query(
            tenant_id=principal.tenant_id,
            region=request.app.state.settings.default_phone_region,
            q=q, type_=type_, state=state_, email=email, phone=phone, tags=tag or [],
            attrs=attr or [], consent=consent, created_from=instant("createdFrom", created_from),
            created_to=instant("createdTo", created_to), sort="createdAt", limit=100,
            cursor=None, external_id=external_id,
        )  # fmt: skip
        position = await export.position(consistency_token)
        body = _body(export, records, principal, query, position, format_, purpose)
        extension = "csv" if format_ == "csv" else "jsonl"
        headers = {
            "X-Consistency-Token": str(position),
            "Content-Disposition": f'attachment; filename="customers.{extension}"',
            "Cache-Control": "no-store",
        }
        return Stream(body, media_type=FORMATS.get(format_, FORMATS["csv"]), headers=headers)


async def _body(
    export: CustomerExport,
    records: CustomerRecords,
    principal: Principal,
    query: ListQuery,
    position: int,
    fmt: str,
    purpose: str | None,
) -> AsyncIterator[bytes]:
    """The file, chunk by chunk; the access-audit entry once the count is known. Should it
    fail, the stream breaks off unterminated, so the client cannot take it as complete."""
    writer = writer_for(fmt)
    yield writer.header()
    count = 0
    chunk: list[CustomerDoc] = []
    async for doc in export.documents(query, position, fields=writer.fields):
        chunk.append(doc)
        if len(chunk) >= CHUNK:
            count += len(chunk)
            yield writer.rows(chunk)
            chunk = []
    count += len(chunk)
    if chunk:
        yield writer.rows(chunk)
    await records.record_bulk_export(principal, count, position, purpose)


EXPORT_HANDLERS = [ExportController]
