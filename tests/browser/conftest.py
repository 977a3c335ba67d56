"""Browser fixtures: one console server per module, one Chromium per session, a fresh tab
(own session storage) per test, at the desktop and at a phone viewport."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

from tests.browser.harness import ConsoleServer, chromium_path
from tests.services import unavailable

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """Package-scoped, not session-scoped: Playwright's sync API keeps an event loop running in
    the main thread while it lives, and every later test calling asyncio.run would fail."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium (installed by `scripts/services up`); missing, the test fails under
    CUSTOMERS_REQUIRE_SERVICES=1 and is skipped otherwise, with the reason."""
    executable = chromium_path()
    if executable is None:
        unavailable("chromium", "no chromium on PATH: run `scripts/services up` (installs it)")
    chromium = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    server = ConsoleServer(Path(tmp_path_factory.mktemp("console")))
    server.start()
    yield server
    server.stop()


def open_tab(browser: Browser, viewport: ViewportSize) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, bypass_csp=True, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"script errors in the console: {errors}"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh tab at 1280x800 (bypassing CSP only so that axe-core can be injected)."""
    yield from open_tab(browser, DESKTOP)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A fresh tab at a phone-sized viewport (390x844)."""
    yield from open_tab(browser, PHONE)
