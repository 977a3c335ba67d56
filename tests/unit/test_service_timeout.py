"""`CUSTOMERS_SERVICE_TIMEOUT` and the 503 an unreachable dependency turns into."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pymongo.errors import ServerSelectionTimeoutError
from redis.exceptions import ConnectionError as RedisConnectionError

from entrypoints.adapters import mongo_timeouts
from shared.errors import ConfigurationError
from shared.http.problems import EXCEPTION_HANDLERS
from shared.settings import Settings


def test_the_service_timeout_is_read_from_the_environment_and_checked() -> None:
    assert Settings.from_env({}).service_timeout_seconds == 2.0
    assert Settings.from_env({"CUSTOMERS_SERVICE_TIMEOUT": "0.5"}).service_timeout_seconds == 0.5
    for bad in ("0", "-1", "soon", "nan", "1e9"):
        with pytest.raises(ConfigurationError, match="CUSTOMERS_SERVICE_TIMEOUT"):
            Settings.from_env({"CUSTOMERS_SERVICE_TIMEOUT": bad})


def test_mongo_waits_the_service_timeout_to_connect_and_select_a_server() -> None:
    timeouts = mongo_timeouts(Settings(service_timeout_seconds=1.5))
    assert timeouts["serverSelectionTimeoutMS"] == timeouts["connectTimeoutMS"] == 1500
    assert timeouts["socketTimeoutMS"] >= 1500


@pytest.mark.parametrize(
    "error",
    [RedisConnectionError("refused"), ServerSelectionTimeoutError("no server"), TimeoutError()],
)
def test_an_unreachable_dependency_anywhere_is_a_503_with_retry_after(error: Exception) -> None:
    response: Any = EXCEPTION_HANDLERS[Exception](None, error)  # type: ignore[arg-type]
    assert response.status_code == 503
    assert response.media_type == "application/problem+json"
    assert int(response.headers["Retry-After"]) >= 1
    assert json.loads(json.dumps(response.content))["type"].endswith("/unavailable")


def test_a_bug_is_still_a_500() -> None:
    response: Any = EXCEPTION_HANDLERS[Exception](None, KeyError("x"))  # type: ignore[arg-type]
    assert response.status_code == 500
