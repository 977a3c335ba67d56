"""Segments in the console: an analyst defines, redefines and deletes one (the filter's 422s
shown on the filter field, by key) and sees counts but no person, and sees the count of the
filter change as it is typed (debounced: no request per key); a reader pages through a
segment's members; a role that may not define is offered no form."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.harness import ConsoleServer, check_screen
from tests.browser.seed import api, seed

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def ids(console: ConsoleServer) -> dict[str, str]:
    return seed(console)


def define(page: Page, name: str, filter_json: str) -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Filter (JSON)").fill(filter_json)
    page.get_by_role("button", name="Create segment").click()


def test_an_analyst_defines_redefines_and_deletes_a_segment_and_sees_only_counts(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    page.goto(f"{console.url}/console#token={console.token('analyst', 'anna')}")
    expect(page.get_by_role("heading", name="Segments", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Search")).to_have_count(0)
    filter_field = page.locator("[name=filter]")
    define(page, "Broken", "{not json")
    expect(filter_field).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-error").filter(has_text="not JSON")).to_be_visible()
    define(page, "Regulars", '{"type": "regular", "visitCountMinn": 1}')
    expect(page.locator(".field-error").filter(has_text="visitCountMinn:")).to_be_visible()
    expect(filter_field).to_be_focused()
    check_screen(page, "25-segment-422")
    define(page, "Regulars", '{"type": "regular"}')
    row = page.get_by_role("row").filter(has_text="Regulars")
    expect(row.locator(".count")).to_have_text("4")
    expect(page.get_by_text("Saved “Regulars”: 4 members.")).to_be_visible()
    expect(row.get_by_role("link")).to_have_count(0)  # an analyst sees no member
    check_screen(page, "26-segments")
    row.get_by_role("button", name="Edit Regulars").click()
    expect(page.get_by_label("Name", exact=True)).to_be_focused()
    page.get_by_label("Filter (JSON)").fill('{"q": "lovelace"}')
    page.get_by_role("button", name="Save segment").click()
    expect(row.locator(".count")).to_have_text("1")
    row.get_by_role("button", name="Delete Regulars").click()
    row.get_by_role("button", name="Confirm: delete Regulars").click()
    expect(page.get_by_text("Deleted “Regulars”.")).to_be_visible()
    expect(page.get_by_text("No segment is defined yet.")).to_be_visible()
    expect(page.get_by_role("heading", name="Segments", level=1)).to_be_focused()


def test_a_reader_pages_through_members_and_is_offered_no_definition_form(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    with api(console) as client:
        body = {"name": "Everyone regular", "filter": {"type": "regular"}}
        response = client.post("/segments", json=body)
        assert response.status_code == 201, response.text
        segment = response.json()["id"]
    page.goto(f"{console.url}/console?screen=segments#token={console.token('viewer')}")
    row = page.get_by_role("row").filter(has_text="Everyone regular")
    expect(row.locator(".count")).to_have_text("4")
    expect(page.get_by_role("button", name="Create segment")).to_have_count(0)
    expect(row.get_by_role("button")).to_have_count(0)
    row.get_by_role("link", name="Everyone regular").click()
    expect(page.get_by_role("heading", name="Everyone regular", level=1)).to_be_focused()
    expect(page.get_by_text("4 members, page 1")).to_be_visible()
    page.goto(f"{console.url}/console?screen=segments&segment={segment}&limit=3")
    expect(page.get_by_text("4 members, page 1")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(3)
    check_screen(page, "27-segment-members")
    page.get_by_role("button", name="Next page →").click()
    expect(page.get_by_text("4 members, page 2")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)
    page.get_by_role("button", name="← Previous page").click()
    expect(page.locator("tbody tr")).to_have_count(3)
    names = page.locator("tbody tr td:first-child").all_inner_texts()
    assert "Edsger Dijkstra" in names


def test_the_filter_is_counted_as_it_is_typed_and_a_bad_one_is_refused_on_its_field(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    page.goto(f"{console.url}/console?screen=segments#token={console.token('analyst', 'anna')}")
    count = page.locator(".filter-count")
    expect(count).to_contain_text("this filter now (not saved yet)")
    filter_field = page.get_by_label("Filter (JSON)")
    filter_field.fill('{"type": "regular"}')
    expect(count).to_have_text("4 customers match this filter now (not saved yet).")
    filter_field.fill('{"q": "l"}')
    expect(count).not_to_have_text("4 customers match this filter now (not saved yet).")
    previews: list[str] = []

    def seen(request: Request) -> None:
        if request.url.endswith("/segments/preview"):
            previews.append(request.post_data or "")

    page.on("request", seen)
    filter_field.press("End")
    filter_field.press("ArrowLeft")
    filter_field.press("ArrowLeft")
    filter_field.press_sequentially("ovelace", delay=30)  # each key leaves a valid filter
    expect(count).to_have_text("1 customer matches this filter now (not saved yet).")
    page.wait_for_timeout(600)
    # seven keys 30 ms apart: one request (two when the loaded machine paused > 250 ms)
    assert 1 <= len(previews) <= 2, previews
    assert '"lovelace"' in previews[-1]
    check_screen(page, "35-segment-live-count")
    filter_field.fill('{"type": "vip", "visitCountMinn": 1}')
    error = page.locator(".field-error").filter(has_text="visitCountMinn:")
    expect(error).to_contain_text("type:")
    expect(filter_field).to_have_attribute("aria-invalid", "true")
    expect(count).to_have_text("")
    assert page.get_by_role("button", name="Create segment").is_enabled()
    filter_field.fill('{"type": "new"}')
    expect(count).to_have_text("0 customers match this filter now (not saved yet).")
    expect(filter_field).not_to_have_attribute("aria-invalid", "true")
    assert page.locator(".field-error:visible").count() == 0
