"""How the console behaves around its flow: a `#token=` link signs in and leaves the URL,
refused and expired tokens send the operator back to sign in, each role is offered only what
it may do, typing a query sends one request (no storm), the keyboard reaches every result, and
the phone-sized viewport works and stays accessible."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.harness import ConsoleServer, check_screen
from tests.browser.seed import seed

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def ids(console: ConsoleServer) -> dict[str, str]:
    return seed(console)


def test_a_token_link_signs_in_and_is_removed_from_the_address(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    page.goto(f"{console.url}/console?q=grace#token={console.token()}")
    expect(page.get_by_role("link", name="Grace Hopper")).to_be_visible()
    assert "#" not in page.url and page.url.endswith("/console?q=grace")
    stored = page.evaluate("() => sessionStorage.getItem('customers.console.token')")
    assert stored == console.token() or stored.count(".") == 2
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 0


def test_refused_and_expired_tokens_return_to_sign_in(page: Page, console: ConsoleServer) -> None:
    forged = console.token()[:-4] + "AAAA"
    page.goto(f"{console.url}/console#token={forged}")
    expect(page.get_by_text("The token was refused or has expired.")).to_be_visible()
    page.goto(f"{console.url}/console#token={console.token(ttl=-60)}")
    expect(page.get_by_text("The token has expired: paste a new one.")).to_be_visible()
    page.get_by_label("Bearer token").fill("not a token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not a bearer token")


def test_typing_sends_one_request_and_aborts_stale_ones(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    page.goto(f"{console.url}/console#token={console.token()}")
    expect(page.get_by_text("4 customers found")).to_be_visible()
    searches: list[str] = []

    def seen(request: Request) -> None:
        if "/customers" in request.url and "/console" not in request.url:
            searches.append(request.url)

    page.on("request", seen)
    page.get_by_label("Search customers").press_sequentially("dijkstra", delay=30)
    expect(page.get_by_role("link", name="Edsger Dijkstra")).to_be_visible()
    expect(page.get_by_text("1 customer found")).to_be_visible()
    page.wait_for_timeout(600)
    # eight keys 30 ms apart: one request (two when the loaded machine paused > 250 ms between
    # keys), never one per key
    assert 1 <= len(searches) <= 2, searches
    assert searches[-1].endswith("?q=dijkstra")
    sent = len(searches)
    page.get_by_label("Search customers").press("Enter")  # unchanged query: nothing sent
    page.wait_for_timeout(400)
    assert len(searches) == sent, searches


def test_keyboard_search_to_customer(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    page.goto(f"{console.url}/console?sort=lastName#token={console.token()}")
    expect(page.get_by_label("Sort")).to_have_value("lastName")
    expect(page.get_by_role("link", name="Edsger Dijkstra")).to_be_visible()
    page.locator("body").click(position={"x": 5, "y": 400})
    page.keyboard.press("/")
    expect(page.get_by_label("Search customers")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("link", name="Edsger Dijkstra")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("link", name="Grace Hopper")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Grace Hopper", level=1)).to_be_focused()
    page.go_back()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    expect(page.get_by_label("Search customers")).to_be_focused()
    for _ in range(12):  # back through the top bar to the first element of the page
        page.keyboard.press("Shift+Tab")
        if page.evaluate("() => document.activeElement.className") == "skip-link":
            break
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    expect(page.get_by_role("link", name="Edsger Dijkstra")).to_be_visible()  # not redrawn


def test_filters_and_a_filter_error_on_its_field(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    page.goto(f"{console.url}/console#token={console.token()}")
    page.get_by_text("Filters").click()
    page.get_by_label("Created from").fill("2030-01-02T00:00:00")
    page.get_by_label("Created to").fill("2030-01-01T00:00:00")
    invalid = page.locator("[aria-invalid=true]")
    expect(invalid).to_have_count(1)
    assert invalid.get_attribute("name") in {"createdFrom", "createdTo"}
    check_screen(page, "04-search-filter-error")
    page.get_by_label("Created from").fill("")
    page.get_by_label("Created to").fill("")
    expect(invalid).to_have_count(0)
    page.get_by_label("Tags").fill("nobody-has-this")
    expect(page.get_by_text("0 customers found")).to_be_visible()
    page.get_by_label("Tags").fill("")
    page.get_by_label("Type").select_option("anonymous")
    expect(page.get_by_text("No customer matches.")).to_be_visible()
    assert "type=anonymous" in page.url


def test_cursor_paging_forward_and_back(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    page.goto(f"{console.url}/console?sort=firstName&limit=3#token={console.token()}")
    names = page.locator("a.result")
    expect(names).to_have_text(["Ada Lovelace", "Alan Turing", "Edsger Dijkstra"])
    page.get_by_role("button", name="Next page →").click()
    expect(names).to_have_text(["Grace Hopper"])
    expect(page.get_by_text("4 customers found, page 2")).to_be_visible()
    expect(page.get_by_role("button", name="Next page →")).to_have_count(0)
    page.get_by_role("button", name="← Previous page").click()
    expect(names).to_have_text(["Ada Lovelace", "Alan Turing", "Edsger Dijkstra"])


@pytest.mark.parametrize(
    ("role", "may_save", "may_see_history", "may_delete"),
    [("viewer", False, False, False), ("staff", True, False, False),
     ("auditor", False, True, False), ("manager", True, False, True)],
)  # fmt: skip
def test_each_role_is_offered_only_what_it_may_do(
    page: Page, console: ConsoleServer, ids: dict[str, str],
    role: str, may_save: bool, may_see_history: bool, may_delete: bool,
) -> None:  # fmt: skip
    page.goto(f"{console.url}/console?customer={ids['Alan']}#token={console.token(role)}")
    expect(page.get_by_role("heading", name="Alan Turing", level=1)).to_be_visible()
    search = page.get_by_role("navigation", name="Console").get_by_role("link", name="Search")
    expect(search).not_to_have_attribute("aria-current", "page")  # this is a customer's page
    expect(page.get_by_role("button", name="Save changes")).to_have_count(int(may_save))
    expect(page.get_by_role("link", name="History")).to_have_count(int(may_see_history))
    expect(page.get_by_role("button", name="Delete customer")).to_have_count(int(may_delete))
    if not may_save:
        expect(page.get_by_label("First name")).to_have_attribute("readonly", "")
    check_screen(page, f"11-customer-as-{role}")


def test_phone_viewport(phone: Page, console: ConsoleServer, ids: dict[str, str]) -> None:
    phone.goto(f"{console.url}/console?q=hopper#token={console.token()}")
    expect(phone.get_by_role("link", name="Grace Hopper")).to_be_visible()
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    check_screen(phone, "12-phone-search")
    phone.get_by_role("link", name="Grace Hopper").click()
    expect(phone.get_by_label("Email")).to_have_value("grace@example.com")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    check_screen(phone, "13-phone-customer")
    phone.get_by_role("link", name="History").click()
    expect(phone.get_by_text(re.compile(r"As of event \d+ of \d+"))).to_be_visible()
    check_screen(phone, "14-phone-history")
