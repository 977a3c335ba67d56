"""Conditional reads: `ETag: "<version>"` on reads by id, 304 to a matching If-None-Match.

A client that polls a customer (or its orders, payments, consents) revalidates its copy for
the price of a status line; the version is the customer aggregate's, the same one `If-Match`
takes on commands, so one number serves both directions.
"""

from __future__ import annotations

from typing import Annotated, TypeVar, cast

from litestar import MediaType, Response
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter

Body = TypeVar("Body")

IfNoneMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-None-Match",
        required=False,
        max_length=1000,
        description='ETags the client holds (`"3"`, `W/"3"`, a list, or `*`): 304 when current.',
    ),
]
READ_HEADERS = [
    ResponseHeader(
        name="ETag",
        description='The customer version this answer reflects, quoted: `"3"`.',
        documentation_only=True,
        required=True,
    )
]
NOT_MODIFIED = {
    304: ResponseSpec(
        data_container=None,
        description="`If-None-Match` names the current version: no body.",
        generate_examples=False,
    )
}


def etag(version: int) -> str:
    """The strong ETag of a customer version."""
    return f'"{version}"'


def matches(if_none_match: str | None, version: int) -> bool:
    """Weak comparison (RFC 9110 §13.1.2): `W/` is ignored, `*` matches anything that exists."""
    if not if_none_match:
        return False
    wanted = etag(version)
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == wanted:
            return True
    return False


def versioned_json(body: bytes, version: int, if_none_match: str | None) -> Response[bytes]:
    """`versioned` for a body already encoded as JSON (a cached rendering)."""
    headers = {"ETag": etag(version)}
    if matches(if_none_match, version):
        return cast("Response[bytes]", Response(content=None, status_code=304, headers=headers))
    return Response(body, headers=headers, media_type=MediaType.JSON)


def versioned(body: Body, version: int, if_none_match: str | None) -> Response[Body]:
    """The body with its ETag, or an empty 304 when the client's copy is current."""
    headers = {"ETag": etag(version)}
    if matches(if_none_match, version):
        # A 304 carries no body; it is typed as the 200 it stands for, the handler's answer.
        return cast("Response[Body]", Response(content=None, status_code=304, headers=headers))
    return Response(body, headers=headers)
