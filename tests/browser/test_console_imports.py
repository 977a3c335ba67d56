"""An import from the console: a CSV file sent as it is, followed to 100 %, its bad row named
by line and field; then the imported near-twin listed among a customer's likely duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import ConsoleServer, check_screen
from tests.browser.seed import seed

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def ids(console: ConsoleServer) -> dict[str, str]:
    return seed(console)


def test_an_import_runs_to_done_and_its_twin_is_a_likely_duplicate(
    page: Page, console: ConsoleServer, ids: dict[str, str], tmp_path: Path
) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text(
        "externalId,firstName,lastName,email,phone\n"
        "x-1,Ada,Lovelace,ada@analytical.example,+442079460000\n"
        "x-2,Bad,Row,not-an-email,\n",
        encoding="utf-8",
    )
    page.goto(f"{console.url}/console#token={console.token()}")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("File (CSV with a header row, or NDJSON)").set_input_files(str(csv))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".progress-text")).to_have_text("100 % · 2 of 2 rows", timeout=20000)
    expect(page.get_by_role("cell", name="email", exact=True)).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="not a valid email")).to_contain_text("3")
    check_screen(page, "23-import")
    page.goto(f"{console.url}/console?customer={ids['Ada']}&view=duplicates")
    expect(page.get_by_text("same phone").first).to_be_visible()
    check_screen(page, "24-duplicates")
