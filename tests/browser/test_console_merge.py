"""Duplicates in the console: a manager sees the other of two duplicates suggested, merges it
after a confirmation naming both, sees the source `merged` with a link to the target, and
undoes the merge from the target's side; a role that may not merge is offered no merge."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import ConsoleServer, check_screen
from tests.browser.seed import api

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def twins(console: ConsoleServer) -> dict[str, str]:
    """Two Mary Shelleys with the same phone: {"kept": id, "other": id}."""
    people = {"kept": "mary@example.com", "other": "mshelley@novel.example"}
    ids: dict[str, str] = {}
    with api(console) as client:
        for key, email in people.items():
            body = {"type": "regular", "firstName": "Mary", "lastName": "Shelley",
                    "email": email, "phone": "+14155550100"}  # fmt: skip
            response = client.post("/customers", json=body)
            assert response.status_code == 201, response.text
            ids[key] = response.json()["id"]
        token = {"X-Consistency-Token": response.headers["X-Consistency-Token"]}
        assert client.get("/customers", headers=token).status_code == 200
    return ids


def test_a_manager_merges_a_suggested_duplicate_and_unmerges_it(
    page: Page, console: ConsoleServer, twins: dict[str, str]
) -> None:
    kept, other = twins["kept"], twins["other"]
    page.goto(
        f"{console.url}/console?customer={kept}&view=duplicates#token={console.token('manager')}"
    )
    suggestion = page.get_by_role("row").filter(has_text="mshelley@novel.example")
    expect(suggestion).to_contain_text("same phone")
    suggestion.get_by_role("button", name="Merge into this one").click()
    confirm = page.get_by_role("group", name="Merge these two customers?")
    expect(confirm).to_contain_text(
        f"Mary Shelley (mshelley@novel.example, id {other}) will be merged"
    )
    expect(confirm).to_contain_text(
        f"into Mary Shelley (mary@example.com, id {kept}), which is kept"
    )
    expect(page.get_by_role("heading", name="Merge these two customers?")).to_be_focused()
    check_screen(page, "32-merge-confirm")
    confirm.get_by_role("button", name="Confirm merge").click()
    result = page.get_by_role("status").filter(has_text="Merged Mary Shelley")
    expect(result).to_contain_text("It is now “merged”")
    merged_row = page.get_by_role("row").filter(has_text="mshelley@novel.example")
    expect(merged_row.get_by_role("button", name="Unmerge")).to_be_visible()
    expect(page.get_by_role("button", name="Merge into this one")).to_have_count(0)
    check_screen(page, "33-merged")

    result.get_by_role("link", name="Mary Shelley").click()
    expect(page.locator(".badges .badge").first).to_have_text("merged")
    target = page.locator(".merged-into").get_by_role("link")
    expect(target).to_have_text(f"Mary Shelley (id {kept})")
    expect(page.get_by_role("button", name="Save changes")).to_have_count(0)
    check_screen(page, "34-merged-source")
    target.click()
    page.get_by_role("link", name="Duplicates").click()
    page.get_by_role("button", name="Unmerge Mary Shelley (mshelley@novel.example").click()
    page.get_by_role("button", name="Confirm unmerge").click()
    expect(page.get_by_role("status").filter(has_text="Unmerged Mary Shelley")).to_be_visible()
    expect(page.get_by_role("heading", name="Merged into this customer")).to_have_count(0)
    back = page.get_by_role("row").filter(has_text="mshelley@novel.example")
    expect(back.get_by_role("button", name="Merge into this one")).to_be_visible()
    page.goto(f"{console.url}/console?customer={other}")
    expect(page.locator(".badges .badge").first).to_have_text("active")
    expect(page.locator(".merged-into")).to_have_count(0)
    page.goto(f"{console.url}/console?q=shelley")
    expect(page.get_by_text("2 customers found")).to_be_visible()


def test_a_role_that_may_not_merge_sees_suggestions_only(
    page: Page, console: ConsoleServer, twins: dict[str, str]
) -> None:
    page.goto(
        f"{console.url}/console?customer={twins['other']}&view=duplicates#token={console.token('staff')}"
    )
    expect(page.get_by_role("row").filter(has_text="mary@example.com")).to_contain_text(
        "same phone"
    )
    expect(page.get_by_role("button", name="Merge into this one")).to_have_count(0)
