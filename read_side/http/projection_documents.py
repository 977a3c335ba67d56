"""`GET /projections/{name}/documents`: an added projection's documents in the caller's
tenant, for analysts (projections hold aggregates, never personal values)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from read_side.deadline import within
from read_side.projections.live import LiveProjections
from shared.errors import NotFound
from shared.http.auth import Caller, requires
from shared.http.openapi import problems
from shared.json_types import JSONObject
from shared.principal import Permission
from shared.settings import Settings

Projections = NamedDependency[LiveProjections]
Configuration = NamedDependency[Settings]


class ProjectionDocument(msgspec.Struct, kw_only=True):
    """One document of a projection, under its key."""

    key: str
    value: JSONObject


class ProjectionDocuments(msgspec.Struct, kw_only=True):
    """The documents of a projection in the caller's tenant, by key."""

    name: str
    generation: int
    items: list[ProjectionDocument]


class ProjectionDocumentsController(Controller):
    """Read an added projection."""

    path = "/projections"
    tags = ["analytics"]
    guards = [requires(Permission.ANALYTICS)]

    @get(
        "/{name:str}/documents",
        operation_id="listProjectionDocuments",
        summary="An added projection's documents",
        responses=problems(400, 401, 403, 404, 429, 503),
    )
    async def documents(
        self,
        principal: Caller,
        live_projections: Projections,
        settings: Configuration,
        name: FromPath[str],
        prefix: Annotated[str, QueryParameter(required=False, max_length=200)] = "",
    ) -> ProjectionDocuments:
        """Every document whose key starts with `prefix`, by key."""
        live = live_projections.get(name)
        if live is None:
            raise NotFound(f"No projection named {name!r}.")
        timeout = settings.service_timeout_seconds
        store = await within(timeout, live.current(), "the projection store")
        found = await within(
            timeout, store.find(principal.tenant_id, prefix), "the projection store"
        )
        items = [ProjectionDocument(key=item.key, value=item.doc) for item in found]
        return ProjectionDocuments(name=name, generation=store.generation, items=items)
