"""`GET /customers/export`: every matching customer, streamed as CSV or JSON Lines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal

from litestar import Controller, get
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Stream

from read_side.export import CustomerExport
from read_side.export_format import FORMATS, writer_for
from read_side.http.customer_queries import (
    AccessPurpose,
    Attributes,
    Configuration,
    CreatedFrom,
    CreatedTo,
    ExternalId,
    StateFilter,
    Tags,
    Text,
    TypeFilter,
)
from read_side.http.params import Token, build_query, instant
from read_side.ports import ListQuery
from read_side.records import CustomerRecords
from read_side.views import CustomerDoc
from shared.http.auth import Caller, requires
from shared.http.openapi import problems
from shared.principal import Permission, Principal

#: Documents per written chunk: large enough to amortise the writes, small enough to stay flat.
CHUNK = 200
Exports = NamedDependency[CustomerExport]
Records = NamedDependency[CustomerRecords]
ExportFormat = Annotated[Literal["csv", "jsonl"], QueryParameter(name="format", required=False)]


class ExportController(Controller):
    """Bulk export for auditors (a tenant's data, one access-audit entry per export)."""

    path = "/customers/export"
    tags = ["customers: queries"]
    guards = [requires(Permission.AUDIT)]

    @get(
        "/",
        operation_id="exportCustomers",
        summary="Export every matching customer (CSV or JSON Lines, streamed)",
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
        self, principal: Caller, export: Exports, records: Records, settings: Configuration,
        consistency_token: Token = None, format_: ExportFormat = "csv", q: Text = None,
        type_: TypeFilter = None, state_: StateFilter = "active", email: Text = None,
        phone: Text = None, tag: Tags = None, attr: Attributes = None, consent: Text = None,
        created_from: CreatedFrom = None, created_to: CreatedTo = None,
        external_id: ExternalId = None, purpose: AccessPurpose = None,
    ) -> Stream:  # fmt: skip
        """Every matching customer as of one log position (`X-Consistency-Token`),
        oldest first; one access-audit entry with the count."""
        query = build_query(
            tenant_id=principal.tenant_id,
            region=settings.default_phone_region,
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
