"""A customer's timeline, notes and preferences in the console: a note added then deleted, a
bad timezone's 422 on its field, contactability per purpose, and the timeline filtered by kind."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import ConsoleServer, check_screen
from tests.browser.seed import seed

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def ids(console: ConsoleServer) -> dict[str, str]:
    return seed(console)


def test_notes_preferences_and_timeline(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    base = f"{console.url}/console?customer={ids['Grace']}"
    page.goto(f"{base}&view=notes#token={console.token()}")
    page.get_by_role("textbox", name="Note").fill("Prefers calls after 5 pm.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("cell", name="Prefers calls after 5 pm.")).to_be_visible()
    check_screen(page, "20-notes")

    page.get_by_role("link", name="Preferences").click()
    page.get_by_label("Timezone").fill("Mars/Olympus")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.locator("[name=timezone]")).to_have_attribute("aria-invalid", "true")
    check_screen(page, "21-preferences-422")
    page.get_by_label("Timezone").fill("Europe/Paris")
    page.get_by_label("SMS channel").select_option("false")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    page.get_by_label("Purpose").fill("order_confirmation")
    page.get_by_role("button", name="Check").click()
    sms = page.get_by_role("row").filter(has_text=re.compile(r"^sms"))
    expect(sms).to_contain_text("channel_disabled")

    page.get_by_role("link", name="Timeline").click()
    expect(page.get_by_role("cell", name="note").first).to_be_visible()
    page.get_by_label("preference").check()
    expect(page.get_by_role("cell", name="note")).to_have_count(0)
    expect(page.get_by_role("cell", name="preference").first).to_be_visible()
    check_screen(page, "22-timeline")

    page.get_by_role("link", name="Notes").click()
    page.get_by_role("button", name=re.compile("Delete the note")).click()
    expect(page.get_by_text("No notes.")).to_be_visible()
