"""What every command endpoint shares: its headers (`Idempotency-Key`, `If-Match`), the
`CommandMeta` it hands the use case, the reason of a state change, and the answer a command
outcome maps to (status, `ETag`, `X-Consistency-Token`)."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Annotated

from litestar import Response
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from shared.errors import FieldError, MalformedRequest, ValidationFailed
from shared.http.types import HTTPRequest
from shared.principal import Principal
from shared.resources import CustomerResource
from write_side.application.decisions import CommandMeta, CommandOutcome, Outcome
from write_side.domain.values import is_plain_text
from write_side.http.presenter import present
from write_side.http.schemas import ReasonBody

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
    request: HTTPRequest,
    principal: Principal,
    idempotency_key: str | None,
    if_match: str | None = None,
) -> CommandMeta:
    """Who is asking, what precondition holds, and a fingerprint of the request."""
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


def record_headers(version: int, position: int) -> dict[str, str]:
    """`ETag` and `X-Consistency-Token` of an answer that is one of the customer's records."""
    return {"ETag": f'"{version}"', "X-Consistency-Token": str(position)}


def respond(
    outcome: CommandOutcome[object], *, location: bool = False
) -> Response[CustomerResource]:
    """The customer, with ETag, consistency token and (for creates) Location."""
    headers = record_headers(outcome.customer.version, outcome.position)
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
