"""ASGI middleware: a request id per request, and one structured access-log line."""

from __future__ import annotations

import logging
import random
import re
import time
from inspect import getmro

from litestar import Request
from litestar.exceptions import HTTPException
from litestar.types import (
    ASGIApp,
    ExceptionHandler,
    ExceptionHandlersMap,
    Message,
    Receive,
    Scope,
    Send,
)

from shared.http.types import HTTPRequest
from shared.json_types import JSONObject
from shared.logs import actor_var, request_id_var, tenant_var

logger = logging.getLogger("customers.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


ROUTE_KEY = "customers.route"


def new_request_id() -> str:
    """32 random hex digits. A request id correlates log lines, it guards nothing: it comes
    from the process's pseudo-random generator (re-seeded in forked children) rather than
    `uuid4`, whose `os.urandom` call cost ~35 µs per request on this machine class."""
    return f"{random.getrandbits(128):032x}"


async def remember_route(message: Message, scope: Scope) -> None:
    """`before_send` hook: hand the matched route template to the access log and metrics."""
    holder = scope.get(ROUTE_KEY)
    if isinstance(holder, dict) and message["type"] == "http.response.start":
        holder["template"] = str(scope.get("path_template", "unmatched"))


def _handler_for(
    handlers: ExceptionHandlersMap, exc: Exception
) -> ExceptionHandler[Exception] | None:
    """The app's handler for `exc`: by status code first, then by exception class (as Litestar)."""
    if isinstance(exc, HTTPException) and exc.status_code in handlers:
        return handlers[exc.status_code]
    return next((handlers[cls] for cls in getmro(type(exc)) if cls in handlers), None)


async def _answer(scope: Scope, receive: Receive, send: Send, exc: Exception) -> bool:
    """Answer `exc` with the app's exception handler; False when it has none for it."""
    app = scope.get("litestar_app") or scope.get("app")
    handler = _handler_for(getattr(app, "exception_handlers", None) or {}, exc)
    if handler is None:
        return False
    request: HTTPRequest = Request(scope, receive=receive, send=send)
    response = handler(request, exc)
    await response.to_asgi_response(app=None, request=request)(scope, receive, send)
    return True


class RequestContextMiddleware:
    """Sets the request id (from `X-Request-ID` when sane), echoes it, logs the outcome."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap one ASGI call."""
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.match(incoming) else new_request_id()
        request_id_var.set(request_id)
        tenant_var.set(None)
        actor_var.set(None)
        started = time.perf_counter()
        method = str(scope.get("method", ""))
        route: dict[str, str] = {}
        scope[ROUTE_KEY] = route  # type: ignore[literal-required]
        status: JSONObject = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["started"] = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Middleware below this one (authentication: 401) raises instead of answering, and
            # Litestar answers that outside this middleware: the response would lack the request
            # id and the access log would say 500. Answer here, with the app's own handlers.
            if status.get("started") or not await _answer(scope, receive, send_with_id, exc):
                raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            observe = scope.get("app") and getattr(scope["app"].state, "observe_request", None)
            if observe:
                observe(method, route.get("template", "unmatched"), status["code"], elapsed_ms)
            logger.info(
                "request",
                extra={
                    "method": method,
                    "path": scope["path"],
                    "route": route.get("template", "unmatched"),
                    "status": status["code"],
                    "durationMs": round(elapsed_ms, 2),
                },
            )
