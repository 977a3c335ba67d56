"""`GET /health`: per-dependency checks and projection lag."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import msgspec
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


class DependencyCheck(msgspec.Struct, kw_only=True):
    """One dependency: `ok` with where it stands, or `down` with the error's class name."""

    status: str
    error: str | msgspec.UnsetType = msgspec.UNSET
    position: int | msgspec.UnsetType = msgspec.UNSET
    checkpoint: int | msgspec.UnsetType | None = msgspec.UNSET


class DeadLetterView(msgspec.Struct, kw_only=True):
    """A parked event (its keys are the dead-letter record's own, as the CLI prints them)."""

    projection: str
    position: int
    event_id: str
    event_type: str
    customer_id: str
    error: str
    at: str


class ProjectionHealth(msgspec.Struct, rename="camel", kw_only=True):
    """One projection's position, lag and dead letters (`state` running or stopped); an added
    projection not running yet has only its name and `state` (pending or backfilling)."""

    name: str
    state: str
    position: int | msgspec.UnsetType = msgspec.UNSET
    head: int | msgspec.UnsetType = msgspec.UNSET
    lag_events: int | msgspec.UnsetType = msgspec.UNSET
    lag_seconds: float | msgspec.UnsetType = msgspec.UNSET
    last_error: str | msgspec.UnsetType | None = msgspec.UNSET
    dead_letters: list[DeadLetterView] | msgspec.UnsetType = msgspec.UNSET


class ConsumerHealth(msgspec.Struct, rename="camel", kw_only=True):
    """The inbound consumer (services profile): informative, a broker outage does not fail
    health."""

    connected: bool
    queues: list[str]
    applied: int
    dead_lettered: int


class HealthDocument(msgspec.Struct, rename="camel", kw_only=True):
    """`GET /health`, with 200 and with 503 alike."""

    status: str
    profile: str
    checks: dict[str, DependencyCheck]
    projections: list[ProjectionHealth]
    runs_projections: bool
    consumer: ConsumerHealth | msgspec.UnsetType = msgspec.UNSET
    stopped_projections: list[str] | msgspec.UnsetType = msgspec.UNSET


async def health_document(runtime: Runtime) -> tuple[bool, HealthDocument]:
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
    return healthy, msgspec.convert(body, HealthDocument)


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
                data_container=HealthDocument,
                description="A dependency is down or a projection stopped (same body).",
                generate_examples=False,
            )
        },
    )
    async def health(self, request: HTTPRequest) -> Response[HealthDocument]:
        """200 when every dependency answers and no projection is stopped, else 503."""
        healthy, body = await health_document(request.app.state.runtime)
        return Response(body, status_code=200 if healthy else 503)
