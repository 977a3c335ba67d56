"""What the browser tests drive: the real app served by uvicorn on a free port (in a thread of
the test process, so a test can feed a payment through the same use case the RabbitMQ consumer
uses), a Debian Chromium driven by Playwright, axe-core checks and saved screenshots."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import uvicorn
from playwright.sync_api import Page

from entrypoints.app import create_app
from shared.http.auth import mint_token
from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.application.decisions import CommandMeta

SECRET = "console-browser-tests-secret-0123456789"
SCREENSHOTS = Path(__file__).parent / "screenshots"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
#: Where Debian puts its Chromium (installed by `scripts/services up`).
CHROMIUM_NAMES = ("chromium", "chromium-browser")


def chromium_path() -> str | None:
    """The system Chromium, if installed."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ConsoleServer:
    """`create_app(settings)` under uvicorn on 127.0.0.1, in a background thread."""

    def __init__(self, data_dir: Path) -> None:
        self.settings = Settings(data_dir=data_dir, jwt_secret=SECRET, rebuild_grace_seconds=1.5)
        self.app = create_app(self.settings)
        self.port = free_port()
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_config=None, access_log=False
        )
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="console-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve())

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert self.thread.is_alive(), "the console server stopped while starting"
            assert time.monotonic() < deadline, "the console server did not start in 60 s"
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    def token(self, role: str = "admin", subject: str = "olivia", ttl: int = 900) -> str:
        return mint_token(SECRET, tenant="acme", roles=[role], subject=subject, ttl_seconds=ttl)

    def call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine on the server's loop (where the runtime's clients live)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def pay(self, customer_id: str, payment_id: str, amount: int, currency: str = "EUR") -> None:
        """A succeeded payment, fed through the use case the RabbitMQ consumer calls."""
        runtime = self.app.state.runtime
        meta = CommandMeta(Principal("payments", "acme", frozenset({Role.STAFF})))
        payment = {"paymentId": payment_id, "orderId": "ord-1", "amount": amount,
                   "currency": currency, "status": "succeeded", "at": "2026-11-20T11:00:00.000Z",
                   "method": "card"}  # fmt: skip
        self.call(
            runtime.commerce.record_payment(meta, payment, customer_id=customer_id, payer=None)
        )


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (WCAG 2.x A and AA, best practices)."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


def check_screen(page: Page, name: str) -> None:
    """Save a screenshot of the screen and fail on any axe-core violation."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    violations = axe_violations(page)
    assert violations == [], f"axe-core on {name}: {json.dumps(violations, indent=1)}"
