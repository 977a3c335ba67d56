"""Projections in the console: an admin starts a blue/green rebuild and follows it live to
100 % (the new generation then serves); the relay has no rebuild; other roles see no screen."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import ConsoleServer, check_screen
from tests.browser.seed import api, seed

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def ids(console: ConsoleServer) -> dict[str, str]:
    return seed(console)


def row_of(console: ConsoleServer, name: str) -> dict[str, Any]:
    with api(console) as client:
        response = client.get("/admin/projections")
        assert response.status_code == 200, response.text
    return next(item for item in response.json()["items"] if item["name"] == name)


def test_an_admin_rebuilds_a_projection_and_sees_it_reach_100_percent(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    before = row_of(console, "customer_view")["generation"]
    page.goto(f"{console.url}/console?screen=projections#token={console.token()}")
    row = page.get_by_role("row").filter(has=page.get_by_text("customer_view", exact=True))
    expect(row).to_contain_text(re.compile(r"running.*(\d+) of \1.*0 events"))
    check_screen(page, "30-projections")
    row.get_by_role("button", name="Rebuild customer_view").focus()
    page.keyboard.press("Enter")
    expect(
        page.get_by_role("status").filter(has_text="Rebuild of customer_view started.")
    ).to_be_visible()
    progress = row.locator(".progress-text")
    expect(progress).to_have_text("100 % · done", timeout=30000)
    expect(page.get_by_text("Rebuild of customer_view started.")).to_be_focused()
    expect(row.get_by_role("progressbar", name="Rebuild of customer_view")).to_have_attribute(
        "value", "100"
    )
    after = row_of(console, "customer_view")["generation"]
    assert after != before
    expect(row.get_by_role("cell", name=str(after), exact=True)).to_be_visible()
    expect(row).to_contain_text(re.compile(r"running.*(\d+) of \1"))
    check_screen(page, "31-projections-rebuilt")


def test_only_projection_admins_are_offered_the_screen(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    for role in ("manager", "analyst"):
        page.goto(f"{console.url}/console?screen=projections#token={console.token(role)}")
        expect(page.get_by_role("heading", level=1)).not_to_have_text("Projections")
        expect(page.get_by_role("link", name="Projections")).to_have_count(0)
