"""The operator's path through the console in real Chromium: sign in with a pasted token,
search as you type and open a customer, see a 422 on the field it names, save a change, step
through the history "as of" each event, download an invoice PDF. Every screen is checked by
axe-core and saved as a screenshot."""

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


def sign_in(page: Page, console: ConsoleServer, role: str = "admin") -> None:
    page.goto(f"{console.url}/console")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    check_screen(page, "01-sign-in")
    page.get_by_label("Bearer token").fill(console.token(role))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()


def test_search_open_edit_and_step_history(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    sign_in(page, console)
    expect(page.get_by_text("4 customers found")).to_be_visible()
    page.get_by_label("Search customers").press_sequentially("ada lov", delay=40)
    expect(page.get_by_text("1 customer found")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/console\?q=ada\+lov$"))
    check_screen(page, "02-search")

    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    email = page.get_by_label("Email")
    email.fill("ada@not a domain")
    page.get_by_role("button", name="Save changes").click()
    expect(email).to_have_attribute("aria-invalid", "true")
    message = page.locator(f"#{email.get_attribute('id')}-error")
    expect(message).to_have_text(re.compile("valid email"))
    expect(email).to_be_focused()
    assert "-error" in (email.get_attribute("aria-describedby") or "")
    check_screen(page, "03-customer-422")

    email.fill("ada@lovelace.org")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved: version")).to_be_visible()
    expect(email).not_to_have_attribute("aria-invalid", "true")

    page.get_by_role("link", name="History").click()
    expect(
        page.get_by_role("heading", name=re.compile(r"Events \(\d+, oldest first\)"))
    ).to_be_visible()
    snapshot_email = page.locator(".snapshot dd[data-field=email]")
    expect(snapshot_email).to_have_text("ada@lovelace.org")
    check_screen(page, "05-history")
    page.get_by_role("button", name="← Previous event").click()
    expect(snapshot_email).to_have_text("ada@example.com")
    expect(page).to_have_url(re.compile(r"asOf="))
    page.get_by_role("button", name="Show the customer as of version 1").click()
    expect(page.get_by_text("As of event 1 of")).to_be_visible()
    expect(page.locator(".snapshot dd[data-field=version]")).to_have_text("1")
    expect(page.get_by_role("button", name="← Previous event")).to_be_disabled()
    check_screen(page, "06-history-as-of")
    page.reload()  # the moment is in the address; the token in the tab's session storage
    expect(page.locator(".snapshot dd[data-field=version]")).to_have_text("1")
    page.get_by_role("button", name="Next event →").click()
    expect(page.locator(".snapshot dd[data-field=version]")).not_to_have_text("1")


def test_records_invoice_pdf_and_consents(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    sign_in(page, console)
    page.goto(f"{console.url}/console?customer={ids['Ada']}&view=orders")
    expect(page.get_by_role("cell", name="ord-1")).to_be_visible()
    check_screen(page, "07-orders")
    page.get_by_role("link", name="Payments").click()
    expect(page.get_by_role("cell", name="42.00 EUR")).to_be_visible()
    check_screen(page, "08-payments")
    page.get_by_role("link", name="Invoices").click()
    page.get_by_role("button", name="Invoice the payments not yet invoiced").click()
    download_button = page.get_by_role("button", name=re.compile(r"Download invoice \d+ as PDF"))
    expect(download_button).to_be_visible()
    check_screen(page, "09-invoices")
    with page.expect_download() as download:
        download_button.click()
    assert download.value.suggested_filename.startswith("invoice-")
    assert download.value.path().read_bytes()[:5] == b"%PDF-"
    page.get_by_role("link", name="Consents").click()
    expect(page.get_by_role("cell", name="marketing_email")).to_be_visible()
    check_screen(page, "10-consents")
