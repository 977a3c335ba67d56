"""A minimal API for the multi-process rate-limit test: the service's JWT auth, the Redis rate
limiter and one endpoint. Served by uvicorn with `--factory`; configured by the environment."""

from __future__ import annotations

import os
from functools import partial
from typing import Any

from litestar import Litestar, Request, get

from shared.http.auth import build_jwt_auth
from shared.http.problems import EXCEPTION_HANDLERS
from shared.http.rate_limit import RateLimitSettings, install_rate_limit
from shared.http.rate_limit_redis import RedisRateLimiter


@get("/whoami", sync_to_thread=False)
def whoami(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The caller's subject and this process's id (to see which process answered)."""
    user = request.scope.get("user")
    return {"subject": str(getattr(user, "subject", "")), "pid": str(os.getpid())}


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    """Readiness probe; public and never rate limited."""
    return {"status": "ok"}


def create_app() -> Litestar:
    """Read CUSTOMERS_JWT_SECRET, CUSTOMERS_REDIS_URL and CUSTOMERS_RATE_LIMIT_* now."""
    install = partial(
        install_rate_limit,
        limiter=RedisRateLimiter.from_url(os.environ["CUSTOMERS_REDIS_URL"]),
        settings=RateLimitSettings.from_env(),
    )
    return Litestar(
        route_handlers=[whoami, health],
        on_app_init=[build_jwt_auth(os.environ["CUSTOMERS_JWT_SECRET"]).on_app_init, install],
        exception_handlers=EXCEPTION_HANDLERS,
        logging_config=None,
    )
