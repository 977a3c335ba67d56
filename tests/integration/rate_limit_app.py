"""A minimal API for the multi-process rate-limit test: the service's JWT auth, the Redis rate
limiter (CUSTOMERS_REDIS_URL) or the SQLite one (CUSTOMERS_DATA_DIR), and one endpoint. Served by
uvicorn with `--factory`; configured by the environment."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, get

from shared.adapters.rate_limit_redis import RedisRateLimiter
from shared.adapters.rate_limit_sqlite import SqliteRateLimiter
from shared.http.auth import build_jwt_auth
from shared.http.problems import EXCEPTION_HANDLERS
from shared.http.rate_limit import RateLimiter, RateLimitSettings, install_rate_limit


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
    """Read CUSTOMERS_JWT_SECRET, CUSTOMERS_REDIS_URL or _DATA_DIR and _RATE_LIMIT_* now."""
    redis_url = os.environ.get("CUSTOMERS_REDIS_URL")
    limiter: RateLimiter = (
        RedisRateLimiter.from_url(redis_url)
        if redis_url
        else SqliteRateLimiter.in_data_dir(Path(os.environ["CUSTOMERS_DATA_DIR"]))
    )
    install = partial(install_rate_limit, limiter=limiter, settings=RateLimitSettings.from_env())
    return Litestar(
        route_handlers=[whoami, health],
        on_app_init=[build_jwt_auth(os.environ["CUSTOMERS_JWT_SECRET"]).on_app_init, install],
        exception_handlers=EXCEPTION_HANDLERS,
        logging_config=None,
    )
