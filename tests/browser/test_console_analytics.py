"""Analytics in the console: the overview series drawn as charts (numbers in a table beside
each), the range's 422 on its field, the cohort table, the CSV downloads; offered only to
roles with `analytics`."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import ConsoleServer, check_screen
from tests.browser.seed import seed

pytestmark = pytest.mark.services
FROM = "2026-11-01"  # the seed's order and payment are on 2026-11-20; customers are made today


@pytest.fixture(scope="module")
def ids(console: ConsoleServer) -> dict[str, str]:
    return seed(console)


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def test_an_analyst_sees_the_overview_as_charts_and_the_cohorts(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    page.goto(f"{console.url}/console#token={console.token('analyst', 'anna')}")
    page.get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Analytics", level=1)).to_be_visible()
    page.get_by_label("From", exact=True).fill(FROM)
    page.get_by_label("To", exact=True).fill(today())
    page.get_by_label("Granularity").select_option("month")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(
        f"{console.url}/console?screen=analytics&from={FROM}&to={today()}&interval=month"
    )
    for title in ("New customers", "Visits", "Revenue (EUR)"):
        expect(page.get_by_role("img", name=title)).to_be_visible()
    expect(page.get_by_role("img", name="New customers").locator("rect").first).to_be_attached()
    page.get_by_text("Revenue (EUR) as a table").click()
    expect(page.get_by_role("cell", name="42.00 EUR")).to_be_visible()
    page.get_by_text("New customers as a table").click()
    numbers = page.get_by_role("table", name="New customers (numbers)")
    expect(numbers.get_by_role("cell", name="4", exact=True)).to_be_visible()
    cohorts = page.get_by_role("table", name=re.compile("^Share of each cohort"))
    expect(cohorts.get_by_role("row").filter(has_text="2026-11")).to_contain_text("100.0 %")
    check_screen(page, "28-analytics")


def test_a_range_backwards_is_refused_on_its_field_and_the_csv_downloads(
    page: Page, console: ConsoleServer, ids: dict[str, str]
) -> None:
    page.goto(
        f"{console.url}/console?screen=analytics&from={FROM}&interval=week#token={console.token('manager')}"
    )
    expect(page.get_by_role("img", name="Visits")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the overview as CSV").click()
    assert download.value.suggested_filename.startswith(f"overview-{FROM}-")
    text = download.value.path().read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("period") and len(text.splitlines()) > 2
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the cohorts as CSV").click()
    assert "2026-11" in download.value.path().read_text(encoding="utf-8")
    page.get_by_label("From", exact=True).fill("2026-12-31")
    page.get_by_label("To", exact=True).fill(FROM)
    page.get_by_role("button", name="Show").click()
    expect(page.locator("[name=from]")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("From", exact=True)).to_be_focused()
    check_screen(page, "29-analytics-422")


def test_roles_without_analytics_are_not_offered_it(page: Page, console: ConsoleServer) -> None:
    page.goto(f"{console.url}/console?screen=analytics#token={console.token('staff')}")
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    expect(page.get_by_role("link", name="Analytics")).to_have_count(0)


@pytest.mark.parametrize("screen", ["analytics", "segments", "projections"])
def test_the_new_screens_fit_a_phone(
    phone: Page, console: ConsoleServer, ids: dict[str, str], screen: str
) -> None:
    phone.goto(f"{console.url}/console?screen={screen}&from={FROM}#token={console.token()}")
    expect(phone.get_by_role("heading", name=screen.capitalize(), level=1)).to_be_visible()
    expect(phone.get_by_text("Loading…")).to_have_count(0)
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    check_screen(phone, f"32-phone-{screen}")
