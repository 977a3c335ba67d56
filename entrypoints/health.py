"""`GET /health`: per-dependency checks."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, Response, get

from write_side.application.commands import CustomerCommands


class HealthController(Controller):
    """Liveness and readiness in one document."""

    path = "/health"
    tags = ["operations"]

    @get("/", operation_id="health", summary="Service health", exclude_from_auth=True)
    async def health(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        """200 with `status: ok` when every required dependency answers, else 503."""
        commands: CustomerCommands = request.app.state.commands
        checks: dict[str, Any] = {}
        try:
            position = await asyncio.wait_for(
                asyncio.to_thread(commands.app.recorder.max_notification_id), timeout=3
            )
            checks["eventStore"] = {"status": "ok", "position": position or 0}
        except Exception as error:
            checks["eventStore"] = {"status": "down", "error": type(error).__name__}
        healthy = all(check["status"] == "ok" for check in checks.values())
        body = {"status": "ok" if healthy else "unavailable", "checks": checks}
        return Response(body, status_code=200 if healthy else 503)
