"""The HTTP server protocol `customers serve` runs: uvicorn's httptools protocol that refuses a
request head over `MAX_HEAD_BYTES` while it is still arriving.

httptools (like most parsers) buffers a header until its end: a 64 MB header cost ~8 s and
~250 MB before any application code could look at it. Here the bytes of an unfinished head
are counted as they arrive; past the limit the connection gets a 431 problem+json, everything
it still sends is read and dropped (so the client sees the answer instead of a reset), and it
is closed after `LINGER_SECONDS`. Header count and finished heads are checked again by
`shared.http.limits.RequestLimitsMiddleware`, whatever the server.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from shared.http.limits import HEAD_TOO_LARGE, MAX_HEAD_BYTES, problem_body
from shared.http.problems import PROBLEM_MEDIA_TYPE

LINGER_SECONDS = 2.0


def refusal_bytes() -> bytes:
    """The complete 431 response."""
    body = problem_body(HEAD_TOO_LARGE)
    head = (
        f"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: {PROBLEM_MEDIA_TYPE}\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` with a cap on the bytes of a request head still being received.

    Its state starts as class attributes (immutable values, shadowed per connection on first
    change), so the protocol's constructor stays uvicorn's own."""

    _in_head = True
    _head_bytes = 0
    _refused = False

    def data_received(self, data: bytes) -> None:
        """Feed the parser; refuse once an unfinished head has passed the limit."""
        if self._refused:
            return  # read and dropped until the connection closes
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > MAX_HEAD_BYTES:
            self._refuse()

    def on_headers_complete(self) -> None:
        """The head is complete: its body is not counted."""
        self._in_head, self._head_bytes = False, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The next bytes on this connection start a new head."""
        super().on_message_complete()
        self._in_head = True

    def _refuse(self) -> None:
        self._refused = True
        self.logger.warning("request head over %d bytes refused with 431", MAX_HEAD_BYTES)
        transport = self.transport
        transport.write(refusal_bytes())
        if transport.can_write_eof():
            transport.write_eof()
        asyncio.get_running_loop().call_later(LINGER_SECONDS, transport.close)
