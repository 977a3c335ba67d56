"""`create_app(settings)`: the one place where adapters are chosen and wired."""

from __future__ import annotations

import asyncio
import multiprocessing
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial

from litestar import Controller, Litestar, Router
from litestar.config.app import AppConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig

from entrypoints.api_docs import OfflineSwaggerPlugin
from entrypoints.console import console_router
from entrypoints.dependencies import DEPENDENCIES
from entrypoints.health import HealthController
from entrypoints.metrics import MetricsController, RequestMetrics
from entrypoints.openapi_document import install_refinements
from entrypoints.projection_admin import ProjectionsAdminController
from entrypoints.request_cost import resolve_dependencies_in_order
from entrypoints.runtime import Runtime, start_runtime
from entrypoints.segments_http import SegmentsController
from entrypoints.segments_wiring import segment_members
from entrypoints.strict_query import refuse_unknown_query
from read_side.http.analytics_controller import AnalyticsController
from read_side.http.audit_queries import AuditController, CustomerAuditController
from read_side.http.customer_queries import CustomerQueryController
from read_side.http.duplicates_handlers import DuplicatesController
from read_side.http.engagement_controller import EngagementQueryController
from read_side.http.export_handlers import ExportController
from read_side.http.loyalty_controller import LoyaltyAccountController
from read_side.http.projection_documents import ProjectionDocumentsController
from read_side.http.record_queries import RecordQueryController
from shared.adapters.alert_counters_redis import RedisAlertCounters
from shared.adapters.alert_counters_sqlite import SqliteAlertCounters
from shared.adapters.rate_limit_redis import RedisRateLimiter
from shared.adapters.rate_limit_sqlite import SqliteRateLimiter
from shared.export_signature import ExportSigner
from shared.http.auth import build_jwt_auth
from shared.http.card_guard import CardNumberGuard
from shared.http.context import RequestContextMiddleware, remember_route
from shared.http.in_flight import InFlight, InFlightMiddleware
from shared.http.limits import MAX_BODY_BYTES, RequestLimitsMiddleware
from shared.http.problems import EXCEPTION_HANDLERS
from shared.http.rate_limit import RateLimiter, RateLimitSettings, install_rate_limit
from shared.parent_death import die_with_parent
from shared.security.counters import AlertCounters
from shared.security.middleware import SecurityMiddleware
from shared.security.monitor import AlertRules, SecurityMonitor
from shared.settings import Settings
from write_side.application.segments import SegmentCommands
from write_side.http.commerce_commands import CommerceCommandController
from write_side.http.customer_commands import (
    CustomerCommandController,
    CustomerLifecycleController,
)
from write_side.http.engagement_controller import EngagementCommandController
from write_side.http.imports_controller import ImportsController
from write_side.http.loyalty_controller import LoyaltyLedgerController, LoyaltyProgramController
from write_side.http.merge_controller import MergeController
from write_side.http.privacy_commands import ConsentCommandController, ErasureController

#: One controller per resource and permission (its class-level guard): the write side's
#: commands, then the read side's queries.
CONTROLLERS: list[type[Controller]] = [
    CustomerCommandController,
    CustomerLifecycleController,
    CommerceCommandController,
    ConsentCommandController,
    ErasureController,
    MergeController,
    CustomerQueryController,
    RecordQueryController,
    CustomerAuditController,
    AuditController,
    LoyaltyProgramController,
    LoyaltyLedgerController,
    LoyaltyAccountController,
    EngagementCommandController,
    EngagementQueryController,
    ExportController,
    DuplicatesController,
    ImportsController,
    ProjectionsAdminController,
    ProjectionDocumentsController,
    AnalyticsController,
    SegmentsController,
]


def api_router() -> Router:
    """Every protected operation. Several controllers share a path (`/customers/{id}`: read,
    update, delete), which Litestar merges into one route only inside one router."""
    return Router(path="/", route_handlers=CONTROLLERS)


def _context_outermost(config: AppConfig) -> AppConfig:
    """Request ids and access logs wrap everything, authentication failures included."""
    config.middleware.insert(0, RequestContextMiddleware)
    return config


def _security(monitor: SecurityMonitor) -> Callable[[AppConfig], AppConfig]:
    """Security monitoring right inside the request context (outside authentication, so the
    401s it raises are seen; locked-out clients get a request id and an access-log line)."""

    def install(config: AppConfig) -> AppConfig:
        config.middleware.insert(1, DefineMiddleware(SecurityMiddleware, monitor=monitor))
        config.on_shutdown.append(monitor.counters.aclose)
        return config

    return install


async def _wire_monitor(monitor: SecurityMonitor, runtime: Runtime) -> None:
    """Give the monitor what only exists once the runtime started."""

    async def tenant_of(customer_id: str) -> str | None:
        return await asyncio.to_thread(runtime.log.tenant_of, uuid.UUID(customer_id))

    monitor.store = runtime.read.alerts
    monitor.tenant_of = tenant_of
    runtime.records.on_read = monitor.observe_read
    if runtime.alert_relay is not None:
        monitor.on_alert.append(runtime.alert_relay.wake)


def create_app(settings: Settings, *, run_projections: bool = True) -> Litestar:
    """Build the HTTP application for the configured profile (embedded or services)."""
    jwt_auth = build_jwt_auth(settings.resolved_jwt_secret())
    metrics = RequestMetrics()
    limits, counters = _rate_limits(settings), _alert_counters(settings)
    monitor = SecurityMonitor(AlertRules.from_settings(settings), counters)
    in_flight = InFlight()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        runtime = await start_runtime(settings, projections=run_projections)
        runtime.runner.pacer.in_flight = in_flight  # projections defer while the API is busy
        app.state.runtime = runtime
        app.state.export_signer = ExportSigner(settings.resolved_audit_key())
        app.state.observe_request = metrics.observe_request
        app.state.metrics = metrics
        app.state.monitor = monitor
        app.state.segments = SegmentCommands(runtime.store)
        app.state.segment_members, readers = segment_members(runtime)
        await _wire_monitor(monitor, runtime)
        try:
            yield
        finally:
            if readers is not None:
                await readers.close()
            await runtime.stop()

    app = Litestar(
        route_handlers=[api_router(), console_router(), HealthController, MetricsController],
        dependencies=DEPENDENCIES,
        lifespan=[lifespan],
        on_app_init=[jwt_auth.on_app_init, _context_outermost, _security(monitor), limits],
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[remember_route],
        before_request=refuse_unknown_query,
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="Customer Management",
            version="1.0.0",
            description="Event-sourced, multi-tenant customer service. See CONTRACT.md.",
            path="/api",
            render_plugins=[OfflineSwaggerPlugin(openapi_path="/api", path="/docs")],
        ),
        logging_config=None,
        debug=False,
    )
    # Outside routing, so that a request over the size limits, or with a card number in its
    # body, is refused on every path (unknown ones included) before authentication.
    handler = RequestLimitsMiddleware(CardNumberGuard(app.asgi_handler))
    app.asgi_handler = InFlightMiddleware(handler, in_flight)
    install_refinements(app)
    resolve_dependencies_in_order(app)
    return app


def _rate_limits(settings: Settings) -> Callable[[AppConfig], AppConfig]:
    """The rate limit's installer. Without Redis the counters live in the data dir, shared by
    every worker process; in Redis every key is under CUSTOMERS_REDIS_PREFIX."""
    limiter: RateLimiter = (
        RedisRateLimiter.from_url(settings.redis_url)
        if settings.redis_url
        else SqliteRateLimiter.in_data_dir(settings.data_dir)
    )
    return partial(
        install_rate_limit,
        limiter=limiter,
        settings=RateLimitSettings.from_settings(settings),
        key_prefix=f"{settings.redis_prefix}:rl",
    )


def _alert_counters(settings: Settings) -> AlertCounters:
    """The security monitor's counters: Redis when configured, else the data dir."""
    if settings.redis_url:
        return RedisAlertCounters.from_url(
            settings.redis_url, prefix=f"{settings.redis_prefix}:alert"
        )
    return SqliteAlertCounters.in_data_dir(settings.data_dir)


def app_from_env() -> Litestar:
    """Factory for ASGI servers started with several worker processes (reads the env). A worker
    spawned by a supervisor (`serve --workers N`) dies with it: a supervisor killed with SIGKILL
    left its workers serving, and running the projections, with nobody to stop them."""
    supervisor = multiprocessing.parent_process()
    if supervisor is not None and supervisor.pid is not None:
        die_with_parent(supervisor.pid)
    return create_app(Settings.from_env())
