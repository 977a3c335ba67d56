"""OpenAPI descriptions shared by the command endpoints: error responses and headers."""

from __future__ import annotations

from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec

from shared.http.problems import PROBLEM_MEDIA_TYPE, Problem

_ERRORS = {
    400: "Malformed JSON, wrong JSON types, unknown fields or bad parameters.",
    401: "Missing, expired or invalid bearer token.",
    403: "The token's roles lack the permission.",
    404: "No such customer in the caller's tenant.",
    409: "Duplicate email (`existingId` names the holder) or a state that forbids the command.",
    412: "`If-Match` names a version that is not the current one.",
    413: "The body is larger than the operation accepts.",
    415: "The body's Content-Type is not one the operation reads.",
    422: "Business-rule violation (`errors` names every field), or a reused Idempotency-Key.",
    429: "Rate limited; see `Retry-After`.",
    503: "A dependency or the read models are not ready (consistency wait timed out); retry.",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """problem+json response specs for the given statuses."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_ERRORS[status],
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }


COMMAND_HEADERS = [
    ResponseHeader(
        name="ETag",
        description='The customer version, quoted: `"3"`.',
        documentation_only=True,
        required=True,
    ),
    ResponseHeader(
        name="X-Consistency-Token",
        description="Global event-store position of this command; send it to queries to read "
        "your own writes.",
        documentation_only=True,
        required=True,
    ),
    ResponseHeader(
        name="Idempotent-Replayed",
        description="`true` when the response replays an earlier request with the same "
        "Idempotency-Key.",
        documentation_only=True,
        required=False,
    ),
]
CREATED_HEADERS = [
    *COMMAND_HEADERS,
    ResponseHeader(
        name="Location",
        description="URL of the new customer.",
        documentation_only=True,
        required=True,
    ),
]
