"""Rate limits per tenant and per subject: the `RateLimiter` port, an in-process adapter (tests;
one process only), and the ASGI middleware that answers 429 (problem+json with `Retry-After`).
The service counts in Redis (`shared.adapters.rate_limit_redis`) or, without Redis, in a
SQLite table in the data dir (`rate_limit_sqlite`), both shared by every worker process.

Algorithm (every adapter): a fixed window per key, anchored at the key's first admitted hit and
ending `window_seconds` later (the Redis key's TTL, on the Redis clock, so API processes' clocks
do not matter). One `hit` checks every quota and increments all of them only when all have room;
a denied hit changes nothing. So with limit N at most N hits are admitted per key and window,
however many processes share the store; a burst straddling two windows may see up to 2N within
one sliding minute, the usual fixed-window trade for O(1) memory per key.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import msgspec
from litestar.config.app import AppConfig
from litestar.middleware import DefineMiddleware
from litestar.middleware.authentication import AbstractAuthenticationMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from shared.http.problems import PROBLEM_MEDIA_TYPE, TYPE_BASE, Problem
from shared.principal import Principal
from shared.settings import Settings

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60
SKIPPED_PATHS = ("/health", "/metrics", "/api/docs", "/api/openapi")


@dataclass(frozen=True)
class Quota:
    """At most `limit` hits on `key` per window of `window_seconds`."""

    key: str
    limit: int
    window_seconds: int = WINDOW_SECONDS


@dataclass(frozen=True)
class Decision:
    """Outcome of one hit. `key`/`limit`/`remaining`/`reset_seconds` describe the binding quota
    (the exhausted one when denied, the one with least room left when admitted); `limit` is 0
    when nothing was checked (no quotas, or the store was unreachable)."""

    allowed: bool
    retry_after: int = 0
    key: str = ""
    limit: int = 0
    remaining: int = 0
    reset_seconds: int = 0


UNCHECKED = Decision(allowed=True)


def decide(quotas: Sequence[Quota], allowed: bool, states: Sequence[tuple[int, float]]) -> Decision:
    """Build the decision from each quota's (count, milliseconds left in its window)."""
    rows = [
        (q, count, max(1, math.ceil(ms / 1000)))
        for q, (count, ms) in zip(quotas, states, strict=True)
    ]
    if allowed:
        quota, count, reset = min(rows, key=lambda row: row[0].limit - row[1])
        return Decision(True, 0, quota.key, quota.limit, max(0, quota.limit - count), reset)
    quota, _, reset = max((row for row in rows if row[1] >= row[0].limit), key=lambda r: r[2])
    return Decision(False, reset, quota.key, quota.limit, 0, reset)


class RateLimiter(Protocol):
    """Port: count one hit against every quota, atomically (all admitted or none counted)."""

    async def hit(self, quotas: Sequence[Quota]) -> Decision:
        """Admit and count the hit when every quota has room; otherwise count nothing."""
        ...

    async def aclose(self) -> None:
        """Release connections (called on application shutdown)."""
        ...


class InMemoryRateLimiter:
    """Counters in this process only (tests and single-process embedders). The check-and-increment
    holds a lock and never awaits, so it is exact across tasks and threads, not processes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._hits = 0

    async def hit(self, quotas: Sequence[Quota]) -> Decision:
        """See `RateLimiter.hit`."""
        if not quotas:
            return UNCHECKED
        with self._lock:
            now = self._clock()
            self._hits += 1
            if self._hits % 4096 == 0:
                self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
            states = []
            for quota in quotas:
                count, ends = self._windows.get(quota.key, (0, 0.0))
                states.append((count, ends) if ends > now else (0, now + quota.window_seconds))
            allowed = all(count < q.limit for (count, _), q in zip(states, quotas, strict=True))
            if allowed:
                states = [(count + 1, ends) for count, ends in states]
                self._windows.update(
                    (q.key, state) for q, state in zip(quotas, states, strict=True)
                )
        return decide(quotas, allowed, [(count, (ends - now) * 1000) for count, ends in states])

    async def aclose(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True)
class RateLimitSettings:
    """Requests per minute per tenant and per subject (token `sub`); 0 disables that limit."""

    tenant_per_minute: int = 6000
    subject_per_minute: int = 1200
    enabled: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimitSettings:
        """`CUSTOMERS_RATE_LIMIT_{TENANT,SUBJECT}_PER_MINUTE`, as read by `Settings`; both 0
        disables limiting."""
        tenant = settings.rate_limit_tenant_per_minute
        subject = settings.rate_limit_subject_per_minute
        return cls(tenant, subject, enabled=tenant > 0 or subject > 0)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RateLimitSettings:
        """The limits of `Settings.from_env(environ)`."""
        return cls.from_settings(Settings.from_env(environ))

    def quotas(self, principal: Principal, prefix: str = "customers:rl") -> list[Quota]:
        """The caller's quotas; keys `<prefix>:{tenant}:t` and `<prefix>:{tenant}:s:<sub>`.

        The tenant is the Redis Cluster hash tag (both keys in one slot, as one script needs);
        braces and `%` in it are percent-encoded so the tag, and thus each key, is unambiguous.
        """
        if not self.enabled:
            return []
        tenant = principal.tenant_id.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")
        candidates = [
            Quota(f"{prefix}:{{{tenant}}}:t", self.tenant_per_minute),
            Quota(f"{prefix}:{{{tenant}}}:s:{principal.subject}", self.subject_per_minute),
        ]
        return [quota for quota in candidates if quota.limit > 0]


def _limit_headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    values = (decision.limit, decision.remaining, decision.reset_seconds) if decision.limit else ()
    names = (b"ratelimit-limit", b"ratelimit-remaining", b"ratelimit-reset")
    return [(name, str(value).encode()) for name, value in zip(names, values, strict=False)]


class RateLimitMiddleware:
    """Applies the tenant and subject quotas to authenticated HTTP requests (a `Principal` in
    `scope["user"]`, so it must run after the auth middleware: see `install_rate_limit`)."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter,
        settings: RateLimitSettings,
        key_prefix: str = "customers:rl",
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.settings = settings
        self.key_prefix = key_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Admit (adding `RateLimit-*` headers) or answer 429 without calling the app."""
        user: object = scope.get("user")
        if (
            scope["type"] != "http"  # type: ignore[comparison-overlap]
            or not isinstance(user, Principal)
            or scope["path"].startswith(SKIPPED_PATHS)
        ):
            await self.app(scope, receive, send)
            return
        decision = await self.limiter.hit(self.settings.quotas(user, self.key_prefix))
        if not decision.allowed:
            await self._too_many(decision, send)
            return
        extra = _limit_headers(decision)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and extra:
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _too_many(self, decision: Decision, send: Send) -> None:
        who = "this tenant" if decision.key.partition("}")[2] == ":t" else "this caller"
        detail = (
            f"The limit of {decision.limit} requests per minute for {who} is used up; "
            f"retry after {decision.retry_after} seconds."
        )
        problem = Problem(TYPE_BASE + "rate-limited", "Too many requests", 429, detail)
        body = msgspec.json.encode(problem)
        headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(decision.retry_after).encode()),
            *_limit_headers(decision),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def install_rate_limit(
    app_config: AppConfig,
    limiter: RateLimiter,
    settings: RateLimitSettings,
    key_prefix: str = "customers:rl",
) -> AppConfig:
    """`on_app_init` hook (bind with `functools.partial`): add `RateLimitMiddleware` right after
    the authentication middleware, or last when that is not installed yet (an auth hook run
    later inserts itself at index 0, ahead of it). Index 0 of `middleware` is outermost.
    Nothing is added when `settings` disable both limits; `limiter` is closed on shutdown."""
    app_config.on_shutdown.append(limiter.aclose)
    if not settings.enabled:
        return app_config
    entry = DefineMiddleware(
        RateLimitMiddleware, limiter=limiter, settings=settings, key_prefix=key_prefix
    )
    position = len(app_config.middleware)
    for index, item in enumerate(app_config.middleware):
        target = getattr(item, "middleware", item)
        if isinstance(target, type) and issubclass(target, AbstractAuthenticationMiddleware):
            position = index + 1
    app_config.middleware.insert(position, entry)
    return app_config
