"""No full card number enters the service, whatever the route: a request body holding a run of
13 or more digits (any card number's length is 13-19; Luhn-valid or not), or a card written in
groups (`4111 1111 1111 1111`, `3782-822463-10005`), is refused with 422 before anything
reads, stores or logs it.

It wraps the application's ASGI handler (like `RequestLimitsMiddleware`), so it covers every
body of every route, present and future, before routing, authentication, idempotency records,
access logs and the event store; the answer names no value. A run right after `+` is an
international phone number (E.164 has at most 15 digits and a card number is never written
with a `+`), so phones in E.164 form pass. JSON `\\u` escapes are decoded before the scan so
they cannot hide digits.
"""

from __future__ import annotations

import json
import logging
import re

from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from shared.http.limits import MAX_BODY_BYTES, problem_body

logger = logging.getLogger("customers.access")
_DIGIT_RUN = re.compile(rb"(?<![0-9+])[0-9]{13,}")
_GROUPED = re.compile(
    rb"(?<![0-9A-Za-z])(?:[0-9]{4}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{1,7}"
    rb"|[0-9]{4}([ -])[0-9]{6}\2[0-9]{4,5})(?![0-9A-Za-z])"
)
CARD_NUMBER = (
    422,
    "Validation failed",
    "card-number-refused",
    "The body holds what looks like a full card number (13-19 digits). Send at most the "
    "brand and the last four digits; nothing of this request was kept.",
)


def holds_card_number(body: bytes) -> bool:
    """Whether `body` holds a digit run or grouped digits that could be a card number."""
    if _DIGIT_RUN.search(body) or _GROUPED.search(body):
        return True
    if b"\\u" in body:
        try:
            decoded = json.dumps(json.loads(body), ensure_ascii=False).encode()
        except (ValueError, RecursionError):
            return False  # not JSON: the framework refuses it (400)
        return bool(_DIGIT_RUN.search(decoded) or _GROUPED.search(decoded))
    return False


class CardNumberGuard:
    """Reads the body (bounded by `MAX_BODY_BYTES`), refuses it with 422 when it holds a card
    number, else hands the very same messages to the application."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 422 without calling the app, or pass the request on."""
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        received: list[ReceiveMessage] = []
        size = 0
        more = True
        while more and size <= MAX_BODY_BYTES:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            more = bool(message.get("more_body", False))
        body = b"".join(m["body"] for m in received if m["type"] == "http.request")
        if size <= MAX_BODY_BYTES and holds_card_number(body):
            logger.warning("request refused", extra={"status": 422, "path": scope["path"]})
            await _refuse(send)
            return
        await self.app(scope, _replaying(received, receive), send)


def _replaying(received: list[ReceiveMessage], receive: Receive) -> Receive:
    """A `receive` that returns the buffered messages first, then reads on."""
    pending = list(received)

    async def replay() -> ReceiveMessage:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _refuse(send: Send) -> None:
    body = problem_body(CARD_NUMBER)
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
