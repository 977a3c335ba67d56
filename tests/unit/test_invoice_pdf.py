"""Invoice PDF rendering: extractable content, money formatting and hostile text."""

from __future__ import annotations

import io
from pathlib import Path

import msgspec
import pytest
from pypdf import PdfReader

from read_side.invoices import pdf as renderer
from read_side.invoices.model import (
    Address,
    BillingDetails,
    Invoice,
    InvoiceLine,
    format_invoice_number,
    format_money,
)
from read_side.invoices.pdf import render_invoice_pdf, sanitize_text
from tests.services import unavailable

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
HAS_UNICODE_FONT = any(Path(regular).is_file() for regular, _ in renderer.PRIMARY_FONTS)
NO_FONT = "fonts-dejavu-core is not installed (scripts/services up installs it)"


def make_invoice(*, billing: BillingDetails | None = None, **changes: object) -> Invoice:
    invoice = Invoice(
        number=42,
        tenant_id="tenant-1",
        customer_id="cus-7f3a",
        issued_at="2025-03-14T09:30:00Z",
        currency="EUR",
        lines=[
            InvoiceLine(
                payment_id="pay-1",
                description="Concert ticket, row 7",
                amount=5000,
                currency="EUR",
                at="2025-03-01T19:00:00Z",
            ),
            InvoiceLine(
                payment_id="pay-2",
                description="Refund: cancelled add-on",
                amount=-1250,
                currency="EUR",
                at="2025-03-02T08:00:00Z",
            ),
        ],
        total=3750,
        billing=billing,
    )
    return msgspec.structs.replace(invoice, **changes)


BILLING = BillingDetails(
    name="Zoë Łukasiewicz",
    email="zoe@example.com",
    tax_id="PL5260250995",
    address=Address(
        line1="ul. Marszałkowska 1", line2="lok. 5", city="Warszawa", postal_code="00-001"
    ),
)


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture(params=["unicode-font", "core-font"])
def font_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with the installed Unicode font, and again with Helvetica (Latin-1) only."""
    mode: str = request.param
    if mode == "unicode-font" and not HAS_UNICODE_FONT:
        unavailable("a Unicode font", NO_FONT)
    if mode == "core-font":
        monkeypatch.setattr(renderer, "PRIMARY_FONTS", ())
    return mode


def test_pdf_shows_number_date_billing_lines_and_total(font_mode: str) -> None:
    text = pdf_text(render_invoice_pdf(make_invoice(billing=BILLING)))

    name = "Zoë Łukasiewicz" if font_mode == "unicode-font" else "Zoë Lukasiewicz"
    for expected in (
        "Invoice INV-000042",
        "2025-03-14",
        name,
        "Warszawa",
        "00-001",
        "lok. 5",
        "zoe@example.com",
        "PL5260250995",
        "cus-7f3a",
        "Concert ticket, row 7",
        "50.00 EUR",
        "-12.50 EUR",
        "2025-03-02",
        "Total",
        "37.50 EUR",
    ):
        assert expected in text, expected


@pytest.mark.parametrize(
    "billing", [None, BillingDetails(name="  ", address=Address(city="Lyon", country="FR"))]
)
def test_without_a_billing_name_the_customer_id_is_shown(billing: BillingDetails | None) -> None:
    text = pdf_text(render_invoice_pdf(make_invoice(billing=billing, lines=[], total=0)))

    assert "Invoice INV-000042" in text
    assert "cus-7f3a" in text
    assert "Total" in text and "0.00 EUR" in text
    assert billing is None or "Lyon" in text


def test_rendering_is_deterministic() -> None:
    invoice = make_invoice(billing=BILLING)
    assert render_invoice_pdf(invoice) == render_invoice_pdf(invoice)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (-1250, "EUR", "-12.50 EUR"),
        (0, "EUR", "0.00 EUR"),
        (5, "usd", "0.05 USD"),
        (-1, "EUR", "-0.01 EUR"),
        (123456789, "EUR", "1234567.89 EUR"),
        (1234, "JPY", "1234 JPY"),
        (-500, "KRW", "-500 KRW"),
        (1234, "KWD", "1.234 KWD"),
        (-1, "BHD", "-0.001 BHD"),
        (100, "XYZ", "1.00 XYZ"),
        (10**30 + 7, "EUR", f"{10**28}.07 EUR"),
    ],
)
def test_format_money_uses_the_currency_minor_unit(
    amount: int, currency: str, expected: str
) -> None:
    assert format_money(amount, currency) == expected


def test_invoice_number_format() -> None:
    assert format_invoice_number(42) == "INV-000042"
    assert format_invoice_number(1234567) == "INV-1234567"


def test_invoice_decodes_from_camel_case_json() -> None:
    raw = (
        '{"number": 7, "tenantId": "t", "customerId": "c", "issuedAt": "2025-01-01T00:00:00Z",'
        ' "currency": "JPY", "total": 500, "lines": [{"paymentId": "p", "description": "d",'
        ' "amount": 500, "currency": "JPY", "at": "2025-01-01T00:00:00Z"}],'
        ' "billing": {"name": "山田", "taxId": "T1", "address": {"postalCode": "100-0001"}}}'
    )
    invoice = msgspec.json.decode(raw.encode(), type=Invoice)

    assert invoice.lines[0].payment_id == "p"
    assert invoice.billing is not None and invoice.billing.tax_id == "T1"
    assert invoice.billing.address is not None and invoice.billing.address.postal_code == "100-0001"
    assert b'"customerId":"c"' in msgspec.json.encode(invoice)


HOSTILE = [
    "",
    "   ",
    "x" * 20_000,
    "word " * 5_000,
    "nul\x00 bell\x07 esc\x1b[31m cr\r lf\n tab\t del\x7f c1\x85",
    "emoji 😀 family 👩‍👩‍👧 flag 🇯🇵 keycap 1️⃣",
    "RTL \u202eevil\u202c zero\u200bwidth bom\ufeff",
    "lone surrogate \ud800 private \ue000 unassigned \U000e0001",
    "Z̷̢͓̈a̵̡̛l̶̨̈g̸o̶ combining piles",
    "山田 太郎 / 김민수 / Ελένη / Дмитрий / عربي / עברית",
    "\u2028line\u2029para ﬁ ligature \uff21 fullwidth ẞ Œ € “quotes” \u2013 dash …",
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=[f"hostile{i}" for i in range(len(HOSTILE))])
def test_hostile_text_never_raises(font_mode: str, hostile: str) -> None:
    invoice = make_invoice(
        billing=BillingDetails(
            name=hostile, email=hostile, tax_id=hostile, address=Address(line1=hostile)
        ),
        customer_id=hostile or "c",
        issued_at=hostile,
        currency=hostile,
        lines=[
            InvoiceLine(
                payment_id="p", description=hostile, amount=10**40, currency=hostile, at=hostile
            )
        ]
        * 3,
    )
    reader = PdfReader(io.BytesIO(render_invoice_pdf(invoice)))

    assert 1 <= len(reader.pages) <= 5
    assert "Invoice INV-000042" in reader.pages[0].extract_text()


@pytest.mark.parametrize("issued_at", ["not a date", "9999-12-31T23:59:59-05:00", "0001-01-01"])
def test_odd_issue_dates_are_printed_as_given_or_as_a_date(issued_at: str) -> None:
    text = pdf_text(render_invoice_pdf(make_invoice(issued_at=issued_at)))
    assert issued_at[:10] in text


def test_many_lines_span_several_pages() -> None:
    lines = [
        InvoiceLine(
            payment_id=f"p{i}", description=f"Item {i}", amount=100, currency="EUR", at="2025-03-01"
        )
        for i in range(120)
    ]
    text = pdf_text(render_invoice_pdf(make_invoice(lines=lines, total=12000)))

    assert "Item 119" in text
    assert "120.00 EUR" in text


def test_sanitize_keeps_latin1_and_transliterates_the_rest() -> None:
    def latin1(char: str) -> bool:
        return ord(char) < 0x100

    assert sanitize_text("Zoë Łukasiewicz", latin1) == "Zoë Lukasiewicz"
    assert sanitize_text("“Straße” \u2013 ﬁne 山田 😀", latin1) == '"Straße" - fine ?? ?'
    assert sanitize_text("a\x00b\x1b\nc\td", latin1) == "ab c d"
    assert sanitize_text("e\u0301", latin1) == "é"  # NFC first
    assert sanitize_text("x" * 50, latin1, limit=10) == "xxxxxxx..."


def test_fallback_font_supplies_glyphs_the_primary_font_lacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not (DEJAVU / "DejaVuSansMono.ttf").is_file() or not (DEJAVU / "DejaVuSans.ttf").is_file():
        unavailable("DejaVu Sans and Sans Mono", NO_FONT)
    mono = str(DEJAVU / "DejaVuSansMono.ttf")
    monkeypatch.setattr(renderer, "PRIMARY_FONTS", ((mono, mono),))
    monkeypatch.setattr(renderer, "FALLBACK_FONTS", (str(DEJAVU / "DejaVuSans.ttf"),))
    billing = BillingDetails(name="Ǆ Ѡ")  # in DejaVu Sans, not in DejaVu Sans Mono

    assert "Ǆ Ѡ" in pdf_text(render_invoice_pdf(make_invoice(billing=billing)))
