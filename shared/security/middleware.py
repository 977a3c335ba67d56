"""The HTTP side of the security monitor: refuse locked-out clients, report every outcome.

`SecurityMiddleware` sits outside authentication (so it sees the 401s the auth middleware
raises) and refuses a locked-out client address, token or subject before any work, with one
lookup (one Redis round trip): 429 problem+json with `Retry-After`, like the rate limiter.
The subject is read from the token's claims before the signature is checked; that is safe
because it only ever refuses: a forged token naming a locked-out subject gets 429 instead of
401, and a valid token carries the same claims once verified.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from shared.http.problems import PROBLEM_MEDIA_TYPE, TYPE_BASE, Problem
from shared.json_types import JSONObject
from shared.principal import Principal
from shared.security.monitor import (
    Outcome,
    SecurityMonitor,
    client_address_var,
    fingerprint,
    key_of_subject,
)

SKIPPED_PATHS = ("/health", "/metrics", "/api/docs", "/api/openapi")


def _problem(seconds: int) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    detail = (
        "Too many refused or suspicious requests from this client: it is locked out for a "
        f"while after a security alert; retry after {seconds} seconds."
    )
    body = msgspec.json.encode(Problem(TYPE_BASE + "locked-out", "Too many requests", 429, detail))
    headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()),
               (b"content-length", str(len(body)).encode()),
               (b"retry-after", str(seconds).encode())]  # fmt: skip
    return body, headers


def _bearer(scope: Scope) -> str | None:
    value = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _claimed_subject(token: str) -> list[str]:
    """The subject key the token claims (unverified: see the module docstring), if any."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        tenant, subject = claims["tenant"], claims["sub"]
    except (IndexError, ValueError, KeyError, TypeError):
        return []
    if isinstance(tenant, str) and isinstance(subject, str):
        return [key_of_subject(tenant, subject)]
    return []


class SecurityMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, monitor: SecurityMonitor) -> None:
        self.app = app
        self.monitor = monitor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a locked-out client, or run the request and report its outcome."""
        if scope["type"] != "http" or scope["path"].startswith(SKIPPED_PATHS):  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = str(client[0]) if client else "unknown"
        bearer = _bearer(scope)
        token = fingerprint(bearer) if bearer else None
        keys = [f"a:{address}"]
        if bearer and token:
            keys += [f"t:{token}", *_claimed_subject(bearer)]
        wait = await self.monitor.refusal(keys)
        if wait:
            body, headers = _problem(wait)
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        status: JSONObject = {"code": 500, "observed": False}

        async def observe() -> None:
            if not status["observed"]:
                status["observed"] = True
                await self.monitor.observe(_outcome(scope, status["code"], address, token))

        async def watch(message: Message) -> None:
            # The answer's last part waits for the monitor: the request that reaches a
            # threshold is answered only once its alert and lockout are in place, so the next
            # request of that client is refused (no race with the counters' store).
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                await observe()
            await send(message)

        client_address_var.set(address)
        try:
            await self.app(scope, receive, watch)
        except Exception as error:
            status["code"] = int(getattr(error, "status_code", 500))
            raise
        finally:
            await observe()


def _outcome(scope: Scope, status: int, address: str, token: str | None) -> Outcome:
    user: object = scope.get("user")
    principal = user if isinstance(user, Principal) else None
    params: Mapping[str, object] = scope.get("path_params") or {}
    customer = params.get("customer_id") if status == 404 else None
    return Outcome(status, principal, address, token, str(customer) if customer else None)
