"""`GET /health`: per-dependency checks and projection lag."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec

from entrypoints.runtime import Runtime
from shared.http.types import HTTPRequest
from shared.json_types import JSONObject


async def _check(name: str, probe: Callable[[], Awaitable[JSONObject]]) -> tuple[str, JSONObject]:
    try:
        detail = await asyncio.wait_for(probe(), timeout=3)
        return name, {"status": "ok", **(detail or {})}
    except Exception as error:
        return name, {"status": "down", "error": type(error).__name__}


async def health_document(runtime: Runtime) -> tuple[bool, JSONObject]:
    """The health body and whether every required dependency and projection is fine."""

    async def event_store() -> JSONObject:
        return {"position": await asyncio.to_thread(runtime.log.head)}

    async def views() -> JSONObject:
        return {"checkpoint": await runtime.read.views.checkpoint()}

    async def index() -> JSONObject:
        return {"checkpoint": await runtime.read.index.checkpoint()}

    results = await asyncio.gather(
        _check("eventStore", event_store), _check("readModel", views), _check("searchIndex", index)
    )
    checks = dict(results)
    projections = [status.as_dict() for status in runtime.runner.status.values()]
    if runtime.runs_projections:  # an added projection still backfilling is listed as such
        rebuilding = runtime.rebuilds.running if runtime.rebuilds else {}
        projections += [
            {"name": name, "state": "backfilling" if name in rebuilding else "pending"}
            for name in runtime.plugins
            if name not in runtime.runner.status
        ]
    stopped = [p["name"] for p in projections if p["state"] == "stopped"]
    healthy = all(c["status"] == "ok" for c in checks.values()) and not stopped
    body = {
        "status": "ok" if healthy else "unavailable",
        "profile": "embedded" if runtime.settings.embedded else "services",
        "checks": checks,
        "projections": projections,
        "runsProjections": runtime.runs_projections,
    }
    if runtime.consumer is not None:  # informative: a broker outage does not fail health
        body["consumer"] = runtime.consumer.status()
    if stopped:
        body["stoppedProjections"] = stopped
    return healthy, body


class HealthController(Controller):
    """Liveness and readiness in one document."""

    path = "/health"
    tags = ["operations"]

    @get(
        "/",
        operation_id="health",
        summary="Service health",
        exclude_from_auth=True,
        responses={
            503: ResponseSpec(
                data_container=JSONObject,
                description="A dependency is down or a projection stopped (same body).",
                generate_examples=False,
            )
        },
    )
    async def health(self, request: HTTPRequest) -> Response[JSONObject]:
        """200 when every dependency answers and no projection is stopped, else 503."""
        healthy, body = await health_document(request.app.state.runtime)
        return Response(body, status_code=200 if healthy else 503)
