"""`/segments`: definitions (analytics), counts (analytics or read), members (read) and the
campaign export (audit). Definitions are events of the log; membership is the
`segment_membership` projection, read at the command's or the token's position."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import msgspec
from litestar import Controller, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream

from read_side.http.params import Token
from read_side.records import CustomerRecords
from read_side.resources import CustomerPage
from read_side.segments.members import SegmentMembers
from read_side.segments.membership import contactable
from read_side.views import to_resource
from shared.errors import FieldError, MalformedRequest
from shared.http.auth import Caller, requires, requires_any
from shared.http.openapi import problems
from shared.json_types import JSONObject
from shared.principal import Permission
from shared.resources import CustomerResource
from shared.segment_filter import PURPOSE, parse_filter
from write_side.application.segments import SegmentCommands, check_definition
from write_side.domain.segment import Segment
from write_side.http.command_support import IfMatch, parse_if_match

SegmentId = FromPath[uuid.UUID]
Commands = NamedDependency[SegmentCommands]
Members = NamedDependency[SegmentMembers]
Records = NamedDependency[CustomerRecords]
EXPORT_FIELDS = ("id", "firstName", "lastName", "email", "phone", "type")


class SegmentBody(msgspec.Struct, forbid_unknown_fields=True):
    """`{name, description, filter}` (the filter's keys: see the contract)."""

    name: str
    filter: JSONObject
    description: str | None = None


class FilterBody(msgspec.Struct, forbid_unknown_fields=True):
    """`{filter}`: a filter to count before it is saved (the keys: see the contract)."""

    filter: JSONObject


class FilterCount(msgspec.Struct, kw_only=True):
    """`POST /segments/preview`: how many customers the filter holds; nothing is saved."""

    count: int


class SegmentView(msgspec.Struct, kw_only=True):
    """A segment with its member count at the command's or the token's position."""

    id: str
    name: str
    description: str | None
    filter: JSONObject  # as defined, in the contract's filter language (checked on write)
    count: int
    version: int


class SegmentList(msgspec.Struct, kw_only=True):
    """`GET /segments`: the tenant's segments, oldest first."""

    items: list[SegmentView]


class SegmentRemoved(msgspec.Struct, kw_only=True):
    """`DELETE /segments/{id}`: the segment is gone from lists at this version."""

    id: str
    removed: bool
    version: int


async def _view(members: SegmentMembers, segment: Segment, token: str | None) -> SegmentView:
    count = await members.count(
        segment.tenant_id, str(segment.id), parse_filter(segment.filter), token
    )
    return SegmentView(
        id=str(segment.id), name=segment.name, description=segment.description,
        filter=segment.filter, count=count, version=segment.version,
    )  # fmt: skip


class SegmentsController(Controller):
    """Segments for campaigns."""

    path = "/segments"
    tags = ["segments"]

    @post("/", operation_id="createSegment", summary="Define a segment", status_code=201,
          guards=[requires(Permission.ANALYTICS)],
          responses=problems(400, 401, 403, 422, 429))  # fmt: skip
    async def create(
        self, principal: Caller, segment_commands: Commands, segment_members: Members,
        data: JSONBody[SegmentBody],
    ) -> Response[SegmentView]:  # fmt: skip
        """201 `{id, name, description, filter, count, version}`; count at this command."""
        definition = check_definition(msgspec.to_builtins(data))
        stored = await segment_commands.define(principal, definition)
        body = await _view(segment_members, stored.segment, str(stored.position))
        headers = {"Location": f"/segments/{stored.segment.id}",
                   "X-Consistency-Token": str(stored.position)}  # fmt: skip
        return Response(body, status_code=201, headers=headers)

    @post("/preview", operation_id="previewSegment", status_code=200,
          summary="Count a filter's customers without saving a segment",
          guards=[requires(Permission.ANALYTICS)],
          responses=problems(400, 401, 403, 422, 429, 503))  # fmt: skip
    async def preview(
        self, principal: Caller, segment_members: Members, data: JSONBody[FilterBody],
        consistency_token: Token = None,
    ) -> FilterCount:  # fmt: skip
        """The count `POST /segments` would answer for this filter now, for the console's live
        count while the filter is typed: the same 422 per `filter.<key>`, the caller's tenant,
        nothing recorded (an aggregate, as a segment's count)."""
        spec = parse_filter(data.filter)
        count = await segment_members.preview(principal.tenant_id, spec, consistency_token)
        return FilterCount(count=count)

    @get("/", operation_id="listSegments", summary="Segments with their current counts",
         guards=[requires_any(Permission.ANALYTICS, Permission.READ)],
         responses=problems(400, 401, 403, 429, 503))  # fmt: skip
    async def list_segments(
        self, principal: Caller, segment_commands: Commands, segment_members: Members,
        consistency_token: Token = None,
    ) -> SegmentList:  # fmt: skip
        """`{items: [segment]}`, oldest first."""
        await segment_members.settle(consistency_token)
        defined = await segment_commands.all(principal.tenant_id)
        return SegmentList(
            items=[await _view(segment_members, s, consistency_token) for s in defined]
        )

    @get("/{segment_id:uuid}", operation_id="getSegment", summary="A segment and its count",
         guards=[requires_any(Permission.ANALYTICS, Permission.READ)],
         responses=problems(400, 401, 403, 404, 429, 503))  # fmt: skip
    async def get_segment(
        self, principal: Caller, segment_commands: Commands, segment_members: Members,
        segment_id: SegmentId, consistency_token: Token = None,
    ) -> SegmentView:  # fmt: skip
        """The count is exact at the token's position (it waits for the read models)."""
        segment = await segment_commands.get(principal.tenant_id, str(segment_id))
        return await _view(segment_members, segment, consistency_token)

    @put("/{segment_id:uuid}", operation_id="redefineSegment", summary="Redefine a segment",
         guards=[requires(Permission.ANALYTICS)],
         responses=problems(400, 401, 403, 404, 412, 422, 429))  # fmt: skip
    async def redefine(
        self,
        principal: Caller,
        segment_commands: Commands,
        segment_members: Members,
        segment_id: SegmentId,
        data: JSONBody[SegmentBody],
        if_match: IfMatch = None,
    ) -> Response[SegmentView]:
        """New name, description and filter; membership follows at once."""
        definition = check_definition(msgspec.to_builtins(data))
        stored = await segment_commands.redefine(
            principal, str(segment_id), definition, parse_if_match(if_match)
        )
        body = await _view(segment_members, stored.segment, str(stored.position))
        return Response(body, headers={"X-Consistency-Token": str(stored.position)})

    @delete("/{segment_id:uuid}", operation_id="removeSegment", summary="Remove a segment",
            status_code=200, guards=[requires(Permission.ANALYTICS)],
            responses=problems(400, 401, 403, 404, 412, 429))  # fmt: skip
    async def remove(
        self, principal: Caller, segment_commands: Commands, segment_id: SegmentId,
        if_match: IfMatch = None,
    ) -> Response[SegmentRemoved]:  # fmt: skip
        """Gone from lists; its definitions stay in the log."""
        stored = await segment_commands.remove(principal, str(segment_id), parse_if_match(if_match))
        body = SegmentRemoved(id=str(segment_id), removed=True, version=stored.segment.version)
        return Response(body, headers={"X-Consistency-Token": str(stored.position)})

    @get("/{segment_id:uuid}/members", operation_id="listSegmentMembers",
         summary="The segment's customers, as GET /customers pages them",
         guards=[requires(Permission.READ)],
         responses=problems(400, 401, 403, 404, 429, 503))  # fmt: skip
    async def members(
        self, principal: Caller, segment_commands: Commands, segment_members: Members,
        records: Records,
        segment_id: SegmentId, consistency_token: Token = None,
        limit: Annotated[int, QueryParameter(required=False, ge=1, le=100)] = 20,
        cursor: Annotated[str | None, QueryParameter(required=False, max_length=200)] = None,
    ) -> CustomerPage:  # fmt: skip
        """`{items, total, nextCursor}`, newest customer first; access-audited."""
        segment = await segment_commands.get(principal.tenant_id, str(segment_id))
        spec = parse_filter(segment.filter)
        page = await segment_members.page(
            principal.tenant_id, str(segment.id), spec, consistency_token, cursor, limit
        )
        await records.record_list(principal, [d["id"] for d in page.docs])
        items = msgspec.convert([to_resource(doc) for doc in page.docs], list[CustomerResource])
        return CustomerPage(items=items, total=page.total, next_cursor=page.next_cursor)

    @get("/{segment_id:uuid}/export", operation_id="exportSegment",
         summary="Members contactable for a purpose, streamed as CSV or JSON lines",
         guards=[requires(Permission.AUDIT)], media_type="text/csv",
         responses=problems(400, 401, 403, 404, 429, 503))  # fmt: skip
    async def export(
        self, principal: Caller, segment_commands: Commands, segment_members: Members,
        records: Records,
        segment_id: SegmentId,
        purpose: Annotated[str, QueryParameter(max_length=50, pattern=PURPOSE.pattern)],
        format_: Annotated[str, QueryParameter(name="format", required=False,
                                               schema_extra={"enum": ["csv", "jsonl"]})] = "csv",
        consistency_token: Token = None,
    ) -> Stream:  # fmt: skip
        """Only members contactable for `purpose`; one access-audit entry with the count."""
        if format_ not in ("csv", "jsonl"):
            raise MalformedRequest("Unknown format.", errors=[FieldError("format", "csv or jsonl")])
        segment = await segment_commands.get(principal.tenant_id, str(segment_id))
        found = await segment_members.everyone(
            principal.tenant_id, str(segment.id), parse_filter(segment.filter), consistency_token
        )
        now = segment_members.now()
        chosen = [to_resource(doc) for doc in found if contactable(doc, purpose, now)]
        await records.record_list(principal, [d["id"] for d in chosen])
        media = "text/csv" if format_ == "csv" else "application/x-ndjson"
        return Stream(_lines(chosen, format_), media_type=media)


async def _lines(rows: list[JSONObject], format_: str) -> AsyncIterator[bytes]:
    if format_ == "jsonl":
        for row in rows:
            yield (json.dumps(row, ensure_ascii=False) + "\n").encode()
        return
    yield (",".join(EXPORT_FIELDS) + "\n").encode()
    for row in rows:
        yield (",".join(_csv_cell(row.get(field)) for field in EXPORT_FIELDS) + "\n").encode()


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if any(char in text for char in ',"\n\r') or text[:1] in ("=", "+", "-", "@"):
        text = '"' + text.replace('"', '""') + '"'
    return text
