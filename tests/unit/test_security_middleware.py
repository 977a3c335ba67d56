"""The security middleware answers the request that reaches a threshold only once the
monitor has seen it: a real server sends the body as soon as the app sends it, so a monitor
still counting afterwards would let the client's next request in before its lockout."""

from __future__ import annotations

import asyncio
from typing import Any

from shared.security.counters import InMemoryAlertCounters
from shared.security.middleware import SecurityMiddleware
from shared.security.monitor import AlertRules, Outcome, SecurityMonitor


class Recording(SecurityMonitor):
    def __init__(self) -> None:
        super().__init__(AlertRules(), InMemoryAlertCounters())
        self.seen: list[int] = []

    async def observe(self, outcome: Outcome) -> None:
        await asyncio.sleep(0.05)  # a counters store far away
        self.seen.append(outcome.status)


def test_the_last_part_of_an_answer_waits_for_the_monitor() -> None:
    monitor = Recording()
    order: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 403, "headers": []})
        await send({"type": "http.response.body", "body": b"{}", "more_body": False})
        order.append("app returned")

    async def send(message: Any) -> None:
        if message["type"] == "http.response.body":
            order.append(f"body sent, monitor saw {monitor.seen}")

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    scope: Any = {"type": "http", "path": "/customers", "headers": [], "client": ("10.0.0.1", 1)}
    asyncio.run(SecurityMiddleware(app, monitor)(scope, receive, send))
    assert order == ["body sent, monitor saw [403]", "app returned"]
    assert monitor.seen == [403]  # once, not again when the app returns
