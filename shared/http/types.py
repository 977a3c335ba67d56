"""Names for the framework's open generics, so that `Any` is written, and justified, once."""

from __future__ import annotations

from typing import Any, TypeAlias

from litestar import Request, Response
from litestar.connection import ASGIConnection

#: A Litestar request with its user, auth and state types left open: handlers get the caller
#: from the `principal` dependency and the guards, not from `request.user`.
HTTPRequest: TypeAlias = Request[Any, Any, Any]

#: A connection (request or websocket) as the guards and the auth backend see it: they read
#: the token and the route, typed where they read them.
HTTPConnection: TypeAlias = ASGIConnection[Any, Any, Any, Any]

#: A response whose body Litestar encodes (msgspec): a problem+json document, a resource or
#: a page built from the read model; the body's schema is the OpenAPI document's business.
HTTPResponse: TypeAlias = Response[Any]
