"""`/segments`: definitions (analytics), counts (analytics or read), members (read) and the
campaign export (audit). Definitions are events of the log; membership is the
`segment_membership` projection, read at the command's or the token's position."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream

from read_side.http.params import Token
from read_side.segments.members import SegmentMembers
from read_side.segments.membership import contactable
from read_side.views import to_resource
from shared.errors import FieldError, MalformedRequest
from shared.http.auth import requires, requires_any
from shared.http.openapi import problems
from shared.http.types import HTTPRequest, HTTPResponse
from shared.json_types import JSONObject
from shared.principal import Permission, Principal
from shared.segment_filter import PURPOSE, parse_filter
from write_side.application.segments import SegmentCommands, check_definition
from write_side.domain.segment import Segment
from write_side.http.command_support import IfMatch, parse_if_match

SegmentId = FromPath[uuid.UUID]
EXPORT_FIELDS = ("id", "firstName", "lastName", "email", "phone", "type")


class SegmentBody(msgspec.Struct, forbid_unknown_fields=True):
    """`{name, description, filter}` (the filter's keys: see the contract)."""

    name: str
    filter: dict[str, Any]
    description: str | None = None


def _principal(request: HTTPRequest) -> Principal:
    principal = request.user
    assert isinstance(principal, Principal)
    return principal


async def _view(request: HTTPRequest, segment: Segment, token: str | None) -> JSONObject:
    members: SegmentMembers = request.app.state.segment_members
    count = await members.count(
        segment.tenant_id, str(segment.id), parse_filter(segment.filter), token
    )
    return {
        "id": str(segment.id), "name": segment.name, "description": segment.description,
        "filter": segment.filter, "count": count, "version": segment.version,
    }  # fmt: skip


def _commands(request: HTTPRequest) -> SegmentCommands:
    commands: SegmentCommands = request.app.state.segments
    return commands


class SegmentsController(Controller):
    """Segments for campaigns."""

    path = "/segments"
    tags = ["segments"]

    @post("/", operation_id="createSegment", summary="Define a segment", status_code=201,
          guards=[requires(Permission.ANALYTICS)],
          responses=problems(400, 401, 403, 422, 429))  # fmt: skip
    async def create(self, request: HTTPRequest, data: JSONBody[SegmentBody]) -> HTTPResponse:
        """201 `{id, name, description, filter, count, version}`; count at this command."""
        definition = check_definition(msgspec.to_builtins(data))
        stored = await _commands(request).define(_principal(request), definition)
        body = await _view(request, stored.segment, str(stored.position))
        headers = {"Location": f"/segments/{stored.segment.id}",
                   "X-Consistency-Token": str(stored.position)}  # fmt: skip
        return Response(body, status_code=201, headers=headers)

    @get("/", operation_id="listSegments", summary="Segments with their current counts",
         guards=[requires_any(Permission.ANALYTICS, Permission.READ)],
         responses=problems(400, 401, 403, 429, 503))  # fmt: skip
    async def list_segments(
        self, request: HTTPRequest, consistency_token: Token = None
    ) -> JSONObject:
        """`{items: [segment]}`, oldest first."""
        members: SegmentMembers = request.app.state.segment_members
        await members.settle(consistency_token)
        segments = await _commands(request).all(_principal(request).tenant_id)
        return {"items": [await _view(request, s, consistency_token) for s in segments]}

    @get("/{segment_id:uuid}", operation_id="getSegment", summary="A segment and its count",
         guards=[requires_any(Permission.ANALYTICS, Permission.READ)],
         responses=problems(400, 401, 403, 404, 429, 503))  # fmt: skip
    async def get_segment(
        self, request: HTTPRequest, segment_id: SegmentId, consistency_token: Token = None
    ) -> JSONObject:
        """The count is exact at the token's position (it waits for the read models)."""
        segment = await _commands(request).get(_principal(request).tenant_id, str(segment_id))
        return await _view(request, segment, consistency_token)

    @put("/{segment_id:uuid}", operation_id="redefineSegment", summary="Redefine a segment",
         guards=[requires(Permission.ANALYTICS)],
         responses=problems(400, 401, 403, 404, 412, 422, 429))  # fmt: skip
    async def redefine(
        self,
        request: HTTPRequest,
        segment_id: SegmentId,
        data: JSONBody[SegmentBody],
        if_match: IfMatch = None,
    ) -> HTTPResponse:
        """New name, description and filter; membership follows at once."""
        definition = check_definition(msgspec.to_builtins(data))
        stored = await _commands(request).redefine(
            _principal(request), str(segment_id), definition, parse_if_match(if_match)
        )
        body = await _view(request, stored.segment, str(stored.position))
        return Response(body, headers={"X-Consistency-Token": str(stored.position)})

    @delete("/{segment_id:uuid}", operation_id="removeSegment", summary="Remove a segment",
            status_code=200, guards=[requires(Permission.ANALYTICS)],
            responses=problems(400, 401, 403, 404, 412, 429))  # fmt: skip
    async def remove(
        self, request: HTTPRequest, segment_id: SegmentId, if_match: IfMatch = None
    ) -> HTTPResponse:
        """Gone from lists; its definitions stay in the log."""
        stored = await _commands(request).remove(
            _principal(request), str(segment_id), parse_if_match(if_match)
        )
        body = {"id": str(segment_id), "removed": True, "version": stored.segment.version}
        return Response(body, headers={"X-Consistency-Token": str(stored.position)})

    @get("/{segment_id:uuid}/members", operation_id="listSegmentMembers",
         summary="The segment's customers, as GET /customers pages them",
         guards=[requires(Permission.READ)],
         responses=problems(400, 401, 403, 404, 429, 503))  # fmt: skip
    async def members(
        self, request: HTTPRequest, segment_id: SegmentId, consistency_token: Token = None,
        limit: Annotated[int, QueryParameter(required=False, ge=1, le=100)] = 20,
        cursor: Annotated[str | None, QueryParameter(required=False, max_length=200)] = None,
    ) -> JSONObject:  # fmt: skip
        """`{items, total, nextCursor}`, newest customer first; access-audited."""
        principal = _principal(request)
        segment = await _commands(request).get(principal.tenant_id, str(segment_id))
        members: SegmentMembers = request.app.state.segment_members
        spec = parse_filter(segment.filter)
        page = await members.page(
            principal.tenant_id, str(segment.id), spec, consistency_token, cursor, limit
        )
        await request.app.state.records.record_list(principal, [d["id"] for d in page.docs])
        return {
            "items": [to_resource(doc) for doc in page.docs], "total": page.total,
            "nextCursor": page.next_cursor,
        }  # fmt: skip

    @get("/{segment_id:uuid}/export", operation_id="exportSegment",
         summary="Members contactable for a purpose, streamed as CSV or JSON lines",
         guards=[requires(Permission.AUDIT)],
         responses=problems(400, 401, 403, 404, 429, 503))  # fmt: skip
    async def export(
        self, request: HTTPRequest, segment_id: SegmentId,
        purpose: Annotated[str, QueryParameter(max_length=50, pattern=PURPOSE.pattern)],
        format_: Annotated[str, QueryParameter(name="format", required=False,
                                               schema_extra={"enum": ["csv", "jsonl"]})] = "csv",
        consistency_token: Token = None,
    ) -> Stream:  # fmt: skip
        """Only members contactable for `purpose`; one access-audit entry with the count."""
        if format_ not in ("csv", "jsonl"):
            raise MalformedRequest("Unknown format.", errors=[FieldError("format", "csv or jsonl")])
        principal = _principal(request)
        segment = await _commands(request).get(principal.tenant_id, str(segment_id))
        members: SegmentMembers = request.app.state.segment_members
        found = await members.everyone(
            principal.tenant_id, str(segment.id), parse_filter(segment.filter), consistency_token
        )
        now = members.now()
        chosen = [to_resource(doc) for doc in found if contactable(doc, purpose, now)]
        await request.app.state.records.record_list(principal, [d["id"] for d in chosen])
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
