"""Operators' view of every projection and their rebuilds: `GET /admin/projections`,
`POST /admin/projections/{name}/rebuild`, and the rows `customers projections status|list`
print. Read models, the broker relay and the added projections are listed alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import FromPath

from entrypoints.adapters import BROKER_RELAY, SEARCH_PROJECTION, VIEW_PROJECTION
from entrypoints.plugins import plugin_job, read_model_job
from entrypoints.runtime import Runtime
from projectors.discovery import BUILT_IN
from projectors.rebuild_jobs import Job
from read_side.ports import ProjectionSink
from shared.errors import Conflict, NotFound
from shared.http.auth import requires
from shared.http.openapi import problems
from shared.http.types import HTTPRequest
from shared.principal import Permission

READ_MODELS = (VIEW_PROJECTION, SEARCH_PROJECTION)


class RebuildProgressBody(msgspec.Struct, rename="camel", kw_only=True):
    """A running rebuild: log positions read of the head, rate, seconds left (None: unknown)."""

    processed: int
    total: int
    events_per_second: float
    eta: float | None


class DeadLetterBody(msgspec.Struct, rename="camel", kw_only=True):
    """An event a projection could not apply (it stopped on it)."""

    position: int
    event_id: str
    event_type: str
    error: str
    at: str


class ProjectionBody(msgspec.Struct, rename="camel", kw_only=True):
    """One projection as an operator sees it."""

    name: str
    kind: str  # read_model | relay | added
    origin: str  # built-in, or the package that ships it
    version: int | None
    description: str
    generation: int | None
    position: int
    lag_events: int
    lag_seconds: float
    state: str  # running | standby | stopped | backfilling | not running here
    dead_letters: list[DeadLetterBody]
    rebuild: RebuildProgressBody | None


class ProjectionsBody(msgspec.Struct, rename="camel", kw_only=True):
    """`GET /admin/projections`."""

    head: int
    items: list[ProjectionBody]


class RebuildStarted(msgspec.Struct, rename="camel", kw_only=True):
    """`POST /admin/projections/{name}/rebuild` → 202."""

    name: str
    status: str = "running"


def names(runtime: Runtime) -> list[str]:
    """Every rebuildable projection: the read models, then the added ones."""
    return [*READ_MODELS, *runtime.plugins]


def rebuild_job(runtime: Runtime, name: str) -> Job:
    """The rebuild of one projection: a read model staged in worker processes, or an added
    projection batch by batch. Each first drops what an interrupted rebuild left."""
    if name == VIEW_PROJECTION:
        return read_model_job(runtime.settings, runtime.log, name, runtime.read.views)
    if name == SEARCH_PROJECTION:
        return read_model_job(runtime.settings, runtime.log, name, runtime.read.index)
    if name in runtime.plugins:
        return plugin_job(
            runtime.plugins[name], runtime.log, grace_seconds=runtime.settings.rebuild_grace_seconds
        )
    raise NotFound(f"No projection named {name!r}.")


async def describe(runtime: Runtime) -> ProjectionsBody:
    """Every projection with its generation, position, lag, dead letters and rebuild."""
    head = await asyncio.to_thread(runtime.log.head)
    rows: list[ProjectionBody] = []
    for name in [
        *names(runtime),
        *([BROKER_RELAY] if BROKER_RELAY in runtime.runner.sinks else []),
    ]:
        rows.append(await _row(runtime, name, head))
    return ProjectionsBody(head=head, items=rows)


async def _row(runtime: Runtime, name: str, head: int) -> ProjectionBody:
    kind, origin, version, description = "read_model", BUILT_IN, None, "customer documents"
    generation: int | None = None
    current: ProjectionSink
    if name == VIEW_PROJECTION:
        view = await runtime.read.views.current()
        current, generation = view, view.generation
    elif name == SEARCH_PROJECTION:
        index = await runtime.read.index.current()
        current, generation, description = index, index.generation, "search index"
    elif name in runtime.plugins:
        plugin = runtime.plugins[name]
        store = await plugin.live.current()
        current, generation, kind, origin = store, store.generation, "added", plugin.origin
        version, description = plugin.projection.version, plugin.projection.description
    else:
        current, kind, description = runtime.runner.sinks[name], "relay", "integration events out"
    position = await current.checkpoint()
    letters = await asyncio.to_thread(runtime.dead_letters.parked, name)
    oldest = await asyncio.to_thread(runtime.log.stored_at, position)
    lag = max(0.0, (datetime.now(UTC) - oldest).total_seconds()) if oldest else 0.0
    progress = runtime.rebuilds.progress(name) if runtime.rebuilds else None
    return ProjectionBody(
        name=name, kind=kind, origin=origin, version=version, description=description,
        generation=generation, position=position, lag_events=max(0, head - position),
        lag_seconds=round(lag, 3), state=_state(runtime, name, bool(letters), progress),
        dead_letters=[
            DeadLetterBody(position=d.position, event_id=d.event_id, event_type=d.event_type,
                           error=d.error, at=d.at)
            for d in letters
        ],
        rebuild=msgspec.convert(progress, RebuildProgressBody, from_attributes=False)
        if progress else None,
    )  # fmt: skip


def _state(runtime: Runtime, name: str, parked: bool, progress: object) -> str:
    if parked:
        return "stopped"
    if name in runtime.runner.sinks:  # "standby" while another process holds its lease
        return runtime.runner.status[name].state
    if progress is not None:
        return "backfilling" if name in runtime.plugins else "running"
    if not runtime.runs_projections:
        return "not running here"
    return "running" if name in READ_MODELS else "pending"  # a backfill about to start


class ProjectionsAdminController(Controller):
    """Projections for operators (the console's projections screen uses these)."""

    path = "/admin/projections"
    tags = ["operations"]
    guards = [requires(Permission.PROJECTIONS_ADMIN)]

    @get(
        "/",
        operation_id="listProjections",
        summary="Every projection and its state",
        responses=problems(400, 401, 403, 429, 503),
    )
    async def list_projections(self, request: HTTPRequest) -> ProjectionsBody:
        """Generation, position, lag, dead letters and a running rebuild's progress."""
        return await describe(request.app.state.runtime)

    @post(
        "/{name:str}/rebuild",
        operation_id="rebuildProjection",
        status_code=202,
        summary="Start a blue/green rebuild",
        responses=problems(400, 401, 403, 404, 409, 429),
    )
    async def rebuild(self, request: HTTPRequest, name: FromPath[str]) -> Response[RebuildStarted]:
        """202 when started (follow it in `GET /admin/projections`); 409 when one runs."""
        runtime: Runtime = request.app.state.runtime
        job = rebuild_job(runtime, name)
        assert runtime.rebuilds is not None
        if not runtime.rebuilds.start(name, job):
            raise Conflict(f"A rebuild of {name} is running.")
        return Response(RebuildStarted(name=name), status_code=202)
