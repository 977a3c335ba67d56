"""Beyond the main flow: creating a customer (its 422s on their fields first), and an
auditor's access log with the signed GDPR export."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import ConsoleServer, check_screen
from tests.browser.seed import seed

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def ids(console: ConsoleServer) -> dict[str, str]:
    return seed(console)


def test_a_new_customer_is_created_after_its_errors_are_shown_on_their_fields(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    page.goto(f"{console.url}/console#token={console.token('staff')}")
    page.get_by_role("link", name="New customer").click()
    expect(page.get_by_role("heading", name="New customer")).to_be_visible()
    expect(page.get_by_label("First name")).to_be_focused()
    page.get_by_label("Type").select_option("regular")
    page.get_by_label("First name").fill("Barbara")
    page.get_by_label("Phone").fill("12")
    page.get_by_role("button", name="Create customer").click()
    expect(page.locator("[name=phone]")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Phone")).to_be_focused()
    page.get_by_label("Phone").fill("")
    page.get_by_role("button", name="Create customer").click()
    for name in ("lastName", "email"):  # a regular customer needs them
        expect(page.locator(f"[name={name}]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[name=phone]")).not_to_have_attribute("aria-invalid", "true")
    check_screen(page, "15-new-customer-422")
    page.get_by_label("Last name").fill("Liskov")
    page.get_by_label("Email").fill("ada@example.com")  # taken: 409 names the holder
    page.get_by_role("button", name="Create customer").click()
    expect(page.locator("[name=email]")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text(re.compile(ids["Ada"]))).to_be_visible()
    page.get_by_label("Email").fill("barbara@example.com")
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("heading", name="Barbara Liskov", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/console\?customer=[0-9a-f-]{36}$"))


def test_an_auditor_sees_who_read_the_customer_and_downloads_the_export(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    page.goto(
        f"{console.url}/console?customer={ids['Grace']}#token={console.token('auditor', 'audrey')}"
    )
    page.get_by_role("link", name="Access log").click()
    expect(page.get_by_role("cell", name="audrey").first).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the GDPR export").click()
    assert download.value.suggested_filename == f"customer-{ids['Grace']}.json"
    document = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert document["customer"]["email"] == "grace@example.com" and "signature" in document
    page.reload()
    expect(page.get_by_role("cell", name="export").first).to_be_visible()
    check_screen(page, "16-access-log")


def test_billing_details_errors_land_on_address_fields_then_save(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    page.goto(f"{console.url}/console?customer={ids['Alan']}&view=billing#token={console.token()}")
    expect(page.get_by_text("No billing details yet")).to_be_visible()
    page.get_by_label("Name on invoices").fill("Turing Ltd")
    page.get_by_label("Address line 1").fill("1 Bletchley Park")
    page.get_by_label("Country").fill("XX")
    page.get_by_role("button", name="Save billing details").click()
    country = page.locator("[name='address.country']")
    expect(country).to_have_attribute("aria-invalid", "true")
    expect(country).to_be_focused()
    check_screen(page, "17-billing-422")
    country.fill("GB")
    page.get_by_role("button", name="Save billing details").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Name on invoices")).to_have_value("Turing Ltd")


def test_projections_show_position_lag_and_dead_letters_to_an_admin_only(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    page.goto(f"{console.url}/console#token={console.token('staff')}")
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    expect(page.get_by_role("link", name="Projections")).to_have_count(0)
    page.goto(f"{console.url}/console#token={console.token()}")
    page.get_by_role("link", name="Projections").click()
    expect(page.get_by_role("heading", name="Projections", level=1)).to_be_visible()
    for name in ("customer_view", "search"):
        row = page.get_by_role("row").filter(has_text=name)
        expect(row).to_contain_text(re.compile(r"running.*(\d+) of \1.*0 events"))
    expect(page.get_by_text("No dead letters")).to_be_visible()
    check_screen(page, "18-projections")


def test_loyalty_points_are_shown_and_a_redemption_over_the_balance_is_refused_on_its_field(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    page.goto(f"{console.url}/console?customer={ids['Ada']}&view=loyalty#token={console.token()}")
    expect(page.get_by_text("42 points").first).to_be_visible()
    expect(page.locator("dd").filter(has_text="gold")).to_be_visible()
    redeem = page.locator("form").filter(has_text="Redeem points")
    redeem.get_by_label("Points").fill("500")
    redeem.get_by_label("Reason").fill("coffee")
    redeem.get_by_role("button", name="Redeem points").click()
    expect(redeem.locator("[name=points]")).to_have_attribute("aria-invalid", "true")
    check_screen(page, "19-loyalty-409")
    redeem.get_by_label("Points").fill("12")
    redeem.get_by_role("button", name="Redeem points").click()
    expect(page.get_by_text("30 points").first).to_be_visible()
    expect(page.get_by_role("cell", name="coffee")).to_be_visible()
