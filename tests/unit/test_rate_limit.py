"""The in-process rate limiter, the settings, and the middleware's place after authentication."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.config.app import AppConfig
from litestar.testing import TestClient

from shared.errors import ConfigurationError
from shared.http.auth import build_jwt_auth, mint_token
from shared.http.context import RequestContextMiddleware
from shared.http.rate_limit import (
    InMemoryRateLimiter,
    Quota,
    RateLimitMiddleware,
    RateLimitSettings,
    install_rate_limit,
)
from shared.principal import Principal, Role

SECRET = "unit-secret-with-at-least-32-bytes-of-entropy!"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_admits_exactly_the_limit_then_denies_with_retry_after() -> None:
    clock = FakeClock()
    limiter = InMemoryRateLimiter(clock)
    quota = [Quota("k", 5, 60)]
    decisions = [await limiter.hit(quota) for _ in range(8)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 3
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    clock.now += 20.5
    denied = await limiter.hit(quota)
    assert not denied.allowed
    assert denied.retry_after == 40  # ceil(39.5)
    assert (denied.limit, denied.remaining, denied.key) == (5, 0, "k")


async def test_concurrent_tasks_are_counted_exactly() -> None:
    limiter = InMemoryRateLimiter()
    results = await asyncio.gather(*(limiter.hit([Quota("k", 17, 60)]) for _ in range(100)))
    assert sum(d.allowed for d in results) == 17


async def test_window_resets_after_window_seconds() -> None:
    clock = FakeClock()
    limiter = InMemoryRateLimiter(clock)
    quota = [Quota("k", 2, 60)]
    assert [(await limiter.hit(quota)).allowed for _ in range(3)] == [True, True, False]
    clock.now += 59.9
    assert not (await limiter.hit(quota)).allowed
    clock.now += 0.1
    assert [(await limiter.hit(quota)).allowed for _ in range(3)] == [True, True, False]


async def test_keys_are_independent() -> None:
    limiter = InMemoryRateLimiter(FakeClock())
    assert (await limiter.hit([Quota("a", 1, 60)])).allowed
    assert not (await limiter.hit([Quota("a", 1, 60)])).allowed
    assert (await limiter.hit([Quota("b", 1, 60)])).allowed


async def test_a_denied_hit_counts_against_no_quota() -> None:
    limiter = InMemoryRateLimiter(FakeClock())
    tenant, alice, bob = Quota("t", 3, 60), Quota("alice", 1, 60), Quota("bob", 5, 60)
    assert (await limiter.hit([tenant, alice])).allowed
    for _ in range(4):
        assert not (await limiter.hit([tenant, alice])).allowed  # alice is out; tenant untouched
    admitted = [(await limiter.hit([tenant, bob])).allowed for _ in range(3)]
    assert admitted == [True, True, False]  # the tenant had 2 left, not fewer
    denied = await limiter.hit([tenant, bob])
    assert (denied.key, denied.limit) == ("t", 3)


def test_settings_from_env() -> None:
    assert RateLimitSettings.from_env({}) == RateLimitSettings(6000, 1200, True)
    env = {
        "CUSTOMERS_RATE_LIMIT_TENANT_PER_MINUTE": "0",
        "CUSTOMERS_RATE_LIMIT_SUBJECT_PER_MINUTE": "30",
    }
    settings = RateLimitSettings.from_env(env)
    assert settings == RateLimitSettings(0, 30, True)
    principal = Principal("sub:1", "ac{m}e", frozenset({Role.VIEWER}))
    assert settings.quotas(principal, "p") == [Quota("p:{ac%7Bm%7De}:s:sub:1", 30, 60)]
    off = RateLimitSettings.from_env(dict.fromkeys(env, "0"))
    assert not off.enabled
    assert off.quotas(principal) == []
    with pytest.raises(ConfigurationError, match="SUBJECT_PER_MINUTE"):
        RateLimitSettings.from_env({"CUSTOMERS_RATE_LIMIT_SUBJECT_PER_MINUTE": "-1"})


def test_keys_are_hash_tagged_by_tenant() -> None:
    quotas = RateLimitSettings().quotas(Principal("alice", "acme", frozenset()))
    assert [q.key for q in quotas] == ["customers:rl:{acme}:t", "customers:rl:{acme}:s:alice"]
    assert [q.limit for q in quotas] == [6000, 1200]


@get("/ping", sync_to_thread=False)
def ping() -> dict[str, str]:
    return {"ok": "yes"}


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


def _context_outermost(config: AppConfig) -> AppConfig:
    config.middleware.insert(0, RequestContextMiddleware)
    return config


Hook = Callable[[AppConfig], AppConfig]


@pytest.mark.parametrize(
    "rate_limit_first", [False, True], ids=["hook-after-auth", "hook-before-auth"]
)
def test_middleware_runs_after_authentication_whatever_the_hook_order(
    rate_limit_first: bool,
) -> None:
    jwt_auth = build_jwt_auth(SECRET)
    limits = RateLimitSettings(tenant_per_minute=0, subject_per_minute=2)
    install: Hook = partial(install_rate_limit, limiter=InMemoryRateLimiter(), settings=limits)
    hooks: list[Hook] = [jwt_auth.on_app_init, _context_outermost]
    hooks.insert(0 if rate_limit_first else 2, install)
    app = Litestar([ping, health], on_app_init=hooks, logging_config=None)
    order = [getattr(getattr(m, "middleware", m), "__name__", "?") for m in app.middleware]
    assert order == [
        "RequestContextMiddleware",
        "JWTAuthenticationMiddleware",
        RateLimitMiddleware.__name__,
    ]
    token = mint_token(SECRET, tenant="acme", roles=["viewer"], subject="al", ttl_seconds=60)
    bearer = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        assert [client.get("/ping").status_code for _ in range(3)] == [401] * 3  # not counted
        first = client.get("/ping", headers=bearer)
        assert first.status_code == 200
        assert first.headers["RateLimit-Limit"] == "2"
        assert first.headers["RateLimit-Remaining"] == "1"
        assert 1 <= int(first.headers["RateLimit-Reset"]) <= 60
        assert client.get("/ping", headers=bearer).status_code == 200
        denied = client.get("/ping", headers=bearer)
        assert [client.get("/health").status_code for _ in range(3)] == [200] * 3
    assert denied.status_code == 429
    assert denied.headers["content-type"] == "application/problem+json"
    assert 1 <= int(denied.headers["Retry-After"]) <= 60
    assert "x-request-id" in denied.headers  # the 429 still passes the context middleware
    body: dict[str, Any] = denied.json()
    assert body["type"].endswith("/rate-limited")
    assert (body["title"], body["status"]) == ("Too many requests", 429)


class ClosingLimiter(InMemoryRateLimiter):
    closed = False

    async def aclose(self) -> None:
        self.closed = True


def test_disabled_limits_install_no_middleware_but_the_limiter_is_closed() -> None:
    limiter = ClosingLimiter()
    off = RateLimitSettings(0, 0, enabled=False)
    install: Hook = partial(install_rate_limit, limiter=limiter, settings=off)
    app = Litestar([ping], on_app_init=[build_jwt_auth(SECRET).on_app_init, install])
    assert len(app.middleware) == 1  # authentication only
    with TestClient(app):
        pass
    assert limiter.closed
