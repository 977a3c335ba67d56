"""Command endpoints: thin adapters from HTTP to `CustomerCommands`."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Annotated, Any

from litestar import HttpMethod, Response, delete, post, route
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from shared.errors import FieldError, MalformedRequest, ValidationFailed
from shared.http.auth import requires
from shared.http.openapi import COMMAND_HEADERS, CREATED_HEADERS, problems
from shared.http.types import HTTPRequest
from shared.principal import Permission, Principal
from shared.resources import CustomerResource
from write_side.application.commands import CustomerCommands
from write_side.application.decisions import CommandMeta, CommandOutcome, Outcome
from write_side.domain.values import is_plain_text
from write_side.http.presenter import present
from write_side.http.schemas import CustomerWrite, ReasonBody

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=255,
        description="Replays the first response for 24 h; another body with it is 422.",
    ),
]
#: `*`, `"3"`, `W/"3"` or `3` (the OpenAPI document declares exactly this).
IF_MATCH_PATTERN = r'^[ \t]*(\*|(W/)?"[0-9]{1,12}"|[0-9]{1,12})[ \t]*$'
_IF_MATCH = re.compile(IF_MATCH_PATTERN)
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        description='Expected version, e.g. `"3"`; `*` is no precondition.',
        schema_extra={"pattern": IF_MATCH_PATTERN},
    ),
]
Reason = Annotated[
    str | None,
    QueryParameter(name="reason", required=False, max_length=500, description="Why (audit)."),
]
ReasonData = JSONBody[ReasonBody | None]
CustomerId = FromPath[uuid.UUID]
Commands = NamedDependency[CustomerCommands]


def provide_commands(request: HTTPRequest) -> CustomerCommands:
    """The application's command handlers (set up by the composition root)."""
    commands: CustomerCommands = request.app.state.commands
    return commands


def parse_if_match(value: str | None) -> int | None:
    """`"3"`, `W/"3"` or `3` → 3; `*` or absent → no precondition."""
    if value is None:
        return None
    match = _IF_MATCH.match(value)
    if match is None:
        raise MalformedRequest(
            'If-Match must be a quoted version number such as "3".',
            errors=[FieldError("If-Match", "must be a quoted version number")],
        )
    text = match.group(1).removeprefix("W/").strip('"')
    return None if text == "*" else int(text)


async def command_meta(
    request: HTTPRequest, idempotency_key: str | None, if_match: str | None = None
) -> CommandMeta:
    """Who is asking, what precondition holds, and a fingerprint of the request."""
    principal = request.user
    assert isinstance(principal, Principal)
    body = await request.body()
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query or "", body):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\x00")
    return CommandMeta(
        principal=principal,
        expected_version=parse_if_match(if_match),
        idempotency_key=idempotency_key,
        fingerprint=digest.hexdigest(),
    )


#: The status each outcome answers with; a replay answers as the first request did.
STATUS_OF = {Outcome.CREATED: 201, Outcome.CHANGED: 200, Outcome.UNCHANGED: 200}


def respond(
    outcome: CommandOutcome[object], *, location: bool = False
) -> Response[CustomerResource]:
    """The customer, with ETag, consistency token and (for creates) Location."""
    headers = {
        "ETag": f'"{outcome.customer.version}"',
        "X-Consistency-Token": str(outcome.position),
    }
    if location:
        headers["Location"] = f"/customers/{outcome.customer.id}"
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    status = STATUS_OF[outcome.outcome]
    return Response(present(outcome.customer), status_code=status, headers=headers)


def check_reason(reason: str | None, body: ReasonBody | None = None) -> str | None:
    """The reason of a delete, restore or erase, from the query or the body, trimmed.

    Control characters and line breaks are refused; two different reasons are refused rather
    than one of them silently dropped.
    """
    if body is not None and body.reason is not None:
        if reason is not None and reason != body.reason:
            # Each is well-formed alone (the document cannot relate the two): 422.
            raise ValidationFailed(
                "The query and the body give different reasons.",
                errors=[FieldError("reason", "give it once, in the query or the body")],
            )
        reason = body.reason
    if reason is None:
        return None
    text = reason.strip()
    if not is_plain_text(text):
        raise ValidationFailed("Bad reason.", errors=[FieldError("reason", "must be plain text")])
    return text or None


@post(
    "/",
    tags=["customers: commands"],
    operation_id="createCustomer",
    summary="Create a customer",
    guards=[requires(Permission.WRITE)],
    status_code=201,
    response_headers=CREATED_HEADERS,
    responses=problems(400, 401, 403, 409, 422, 429),
)
async def create(
    request: HTTPRequest,
    data: JSONBody[CustomerWrite],
    commands: Commands,
    idempotency_key: IdempotencyKey = None,
) -> Response[CustomerResource]:
    """Create a customer. `type` defaults to `unregistered`."""
    meta = await command_meta(request, idempotency_key)
    outcome = await commands.create(meta, data.to_input())
    return respond(outcome, location=outcome.outcome is Outcome.CREATED)


def _update_operation_id(_handler: Any, method: Any, _path: Any) -> str:
    """Distinct OpenAPI operation ids for the two methods of one update handler."""
    return "patchCustomer" if str(method).upper().endswith("PATCH") else "replaceCustomerFields"


@route(
    "/{customer_id:uuid}",
    http_method=[HttpMethod.PUT, HttpMethod.PATCH],
    tags=["customers: commands"],
    operation_id=_update_operation_id,
    summary="Update a customer (JSON merge patch; PUT and PATCH alike)",
    guards=[requires(Permission.WRITE)],
    response_headers=COMMAND_HEADERS,
    responses=problems(400, 401, 403, 404, 409, 412, 422, 429),
)
async def update_customer(
    request: HTTPRequest,
    customer_id: CustomerId,
    data: JSONBody[CustomerWrite],
    commands: Commands,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response[CustomerResource]:
    """Only the fields present change; `null` clears a field (PUT and PATCH alike)."""
    meta = await command_meta(request, idempotency_key, if_match)
    return respond(await commands.update(meta, customer_id, data.to_input()))


@delete(
    "/{customer_id:uuid}",
    tags=["customers: commands"],
    operation_id="deleteCustomer",
    summary="Soft-delete a customer",
    guards=[requires(Permission.DELETE)],
    status_code=200,
    response_headers=COMMAND_HEADERS,
    responses=problems(400, 401, 403, 404, 409, 412, 422, 429),
)
async def delete_customer(
    request: HTTPRequest,
    customer_id: CustomerId,
    commands: Commands,
    reason: Reason = None,
    data: ReasonData = None,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response[CustomerResource]:
    """The customer stays readable by id in state `deleted`; its email is freed."""
    meta = await command_meta(request, idempotency_key, if_match)
    return respond(await commands.delete(meta, customer_id, check_reason(reason, data)))


@post(
    "/{customer_id:uuid}/restore",
    tags=["customers: commands"],
    operation_id="restoreCustomer",
    summary="Restore a deleted customer",
    guards=[requires(Permission.DELETE)],
    status_code=200,
    response_headers=COMMAND_HEADERS,
    responses=problems(400, 401, 403, 404, 409, 412, 422, 429),
)
async def restore_customer(
    request: HTTPRequest,
    customer_id: CustomerId,
    commands: Commands,
    reason: Reason = None,
    data: ReasonData = None,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response[CustomerResource]:
    """Back to `active`; 409 when another customer took the email meanwhile."""
    meta = await command_meta(request, idempotency_key, if_match)
    return respond(await commands.restore(meta, customer_id, check_reason(reason, data)))


COMMAND_HANDLERS = [create, update_customer, delete_customer, restore_customer]
