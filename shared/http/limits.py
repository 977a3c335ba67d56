"""Bounds on what a client may send, applied before authentication and routing: a request
head of at most `MAX_HEAD_BYTES` and `MAX_HEADERS` header lines (else 431) and a body of at
most `MAX_BODY_BYTES` on every route (else 413), each answered as problem+json.

The HTTP server enforces the head limits while it reads (`entrypoints.http_server`), so a
huge header is refused after 16 KB instead of being buffered whole; `RequestLimitsMiddleware`
checks the same limits on what any ASGI server hands over, and refuses a declared
`Content-Length` over the body limit before anything reads the body. A body streamed without
a length is cut at the same limit by Litestar's `request_max_body_size`.
"""

from __future__ import annotations

import logging

import msgspec
from litestar.types import ASGIApp, Receive, Scope, Send

from shared.http.problems import PROBLEM_MEDIA_TYPE, TYPE_BASE, Problem

logger = logging.getLogger("customers.access")
MAX_HEAD_BYTES = 16 * 1024
MAX_HEADERS = 100
MAX_BODY_BYTES = 1024 * 1024
#: `POST /imports` streams its file to disk: it may be far larger than any JSON body.
MAX_IMPORT_BYTES = 1024 * 1024 * 1024
IMPORT_PATH = "/imports"

Refusal = tuple[int, str, str, str]
HEAD_TOO_LARGE: Refusal = (
    431,
    "Request header fields too large",
    "request-header-fields-too-large",
    f"The request line and headers must stay within {MAX_HEAD_BYTES} bytes and "
    f"{MAX_HEADERS} header fields.",
)
BODY_TOO_LARGE: Refusal = (
    413,
    "Payload too large",
    "payload-too-large",
    f"The request body must stay within {MAX_BODY_BYTES} bytes.",
)
IMPORT_TOO_LARGE: Refusal = (
    413,
    "Payload too large",
    "payload-too-large",
    f"An import file must stay within {MAX_IMPORT_BYTES} bytes.",
)


def problem_body(refusal: Refusal) -> bytes:
    """The problem+json body of a refusal."""
    status, title, slug, detail = refusal
    return msgspec.json.encode(Problem(TYPE_BASE + slug, title, status, detail))


def refusal_for(
    headers: list[tuple[bytes, bytes]], head_bytes: int, path: str = ""
) -> Refusal | None:
    """431 or 413 when the parsed head breaks a limit, else None (a malformed length is left
    to the server and the framework). An import (`path` `/imports`) may send a larger body."""
    if len(headers) > MAX_HEADERS or head_bytes > MAX_HEAD_BYTES:
        return HEAD_TOO_LARGE
    importing = path.rstrip("/") == IMPORT_PATH
    limit, refusal = (
        (MAX_IMPORT_BYTES, IMPORT_TOO_LARGE) if importing else (MAX_BODY_BYTES, BODY_TOO_LARGE)
    )
    length = next((v.strip() for n, v in headers if n.lower() == b"content-length"), b"")
    if length.isdigit() and (len(length) > 18 or int(length) > limit):
        return refusal
    return None


class RequestLimitsMiddleware:
    """Refuses requests over the limits before routing and authentication: wrap the
    application's ASGI handler with it (Litestar middleware only wraps matched routes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 431/413 without calling the app, or pass the request on."""
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        headers = list(scope.get("headers", []))
        size = len(scope.get("raw_path", b"")) + len(scope.get("query_string", b""))
        size += sum(len(name) + len(value) + 4 for name, value in headers)
        refusal = refusal_for(headers, size, scope.get("path", ""))
        if refusal is None:
            await self.app(scope, receive, send)
            return
        logger.warning("request refused", extra={"status": refusal[0], "path": scope["path"]})
        body = problem_body(refusal)
        response_headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        start = {"type": "http.response.start", "status": refusal[0], "headers": response_headers}
        await send(start)  # type: ignore[arg-type]
        await send({"type": "http.response.body", "body": body, "more_body": False})
