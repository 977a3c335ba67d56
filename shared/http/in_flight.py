"""Counts the HTTP requests a process is serving, so that background work (the projections,
`projectors.pacing`) can leave the cores to the API while it is busy."""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send


class InFlight:
    """Requests this process is serving (changed on the event loop only)."""

    def __init__(self) -> None:
        self.count = 0


class InFlightMiddleware:
    """Wrap the application's ASGI handler: every HTTP request counts while it runs."""

    def __init__(self, app: ASGIApp, in_flight: InFlight) -> None:
        self.app = app
        self.in_flight = in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the request while the application serves it."""
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        self.in_flight.count += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight.count -= 1
