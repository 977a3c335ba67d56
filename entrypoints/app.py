"""`create_app(settings)`: the one place where adapters are chosen and wired."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from entrypoints.health import HealthController
from shared.http.auth import build_jwt_auth
from shared.http.context import RequestContextMiddleware
from shared.http.problems import EXCEPTION_HANDLERS
from shared.settings import Settings
from write_side.application.commands import CustomerCommands
from write_side.application.event_store import open_event_store
from write_side.http.controller import CustomerCommandController

MAX_BODY_BYTES = 1024 * 1024


def _context_outermost(config: AppConfig) -> AppConfig:
    """Request ids and access logs wrap everything, authentication failures included."""
    config.middleware.insert(0, RequestContextMiddleware)
    return config


def create_app(settings: Settings) -> Litestar:
    """Build the HTTP application for the configured profile (embedded or services)."""
    jwt_auth = build_jwt_auth(settings.resolved_jwt_secret())

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        store = open_event_store(settings)
        commands = CustomerCommands(
            store,
            index_key=settings.resolved_index_key(),
            default_region=settings.default_phone_region,
            max_batch=settings.group_commit_max_batch,
        )
        app.state.commands = commands
        app.state.settings = settings
        try:
            yield
        finally:
            commands.close()
            store.close()

    return Litestar(
        route_handlers=[CustomerCommandController, HealthController],
        lifespan=[lifespan],
        on_app_init=[jwt_auth.on_app_init, _context_outermost],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="Customer Management",
            version="1.0.0",
            description="Event-sourced, multi-tenant customer service. See CONTRACT.md.",
            path="/api",
            render_plugins=[SwaggerRenderPlugin(path="/docs")],
        ),
        logging_config=None,
        debug=False,
    )


def app_from_env() -> Litestar:
    """Factory for ASGI servers started with several worker processes (reads the env)."""
    return create_app(Settings.from_env())
