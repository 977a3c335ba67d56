"""Render an `Invoice` as a PDF document (fpdf2). Pure: no I/O apart from reading font files.

Fonts. The renderer embeds (as a subset) the first Unicode TrueType font of `PRIMARY_FONTS`
found on the machine: DejaVu Sans on Debian/Ubuntu (package `fonts-dejavu-core`), which
covers Latin, Greek, Cyrillic, Arabic, Hebrew and more. When the text holds characters that
font lacks (CJK, say), fonts of `FALLBACK_FONTS` that are installed (e.g. `fonts-noto-cjk`) are
loaded as fpdf2 fallback fonts, only then, since they are large. With no Unicode font at all,
it falls back to the PDF core font Helvetica, which covers Latin-1 only.

Text. Every string is sanitised before it reaches fpdf2, so odd text never raises: NFC
normalisation; control, format, surrogate, private-use and unassigned code points dropped
(line breaks and tabs become spaces); a character no loaded font has is transliterated
(`Ł` -> `L`, typographic quotes -> ASCII, NFKD without accents) or else replaced by `?`;
Latin-1 characters such as `ë` are always kept. Long fields are cut with `...` so a hostile
value cannot blow up the page count.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF, FontFace, XPos, YPos

from read_side.invoices.model import Address, Invoice, format_invoice_number, format_money

_F = "/usr/share/fonts"
#: (regular, bold) Unicode fonts, in order of preference; the first one found is used:
#: DejaVu Sans on Debian/Ubuntu (fonts-dejavu-core), Arch/Alpine, Fedora; then Noto Sans.
PRIMARY_FONTS: tuple[tuple[str, str], ...] = (
    (f"{_F}/truetype/dejavu/DejaVuSans.ttf", f"{_F}/truetype/dejavu/DejaVuSans-Bold.ttf"),
    (f"{_F}/TTF/DejaVuSans.ttf", f"{_F}/TTF/DejaVuSans-Bold.ttf"),
    (f"{_F}/dejavu-sans-fonts/DejaVuSans.ttf", f"{_F}/dejavu-sans-fonts/DejaVuSans-Bold.ttf"),
    (f"{_F}/truetype/noto/NotoSans-Regular.ttf", f"{_F}/truetype/noto/NotoSans-Bold.ttf"),
)
#: Extra coverage (CJK), loaded only when the invoice needs a character the primary font lacks.
FALLBACK_FONTS: tuple[str, ...] = (
    f"{_F}/truetype/droid/DroidSansFallbackFull.ttf",
    f"{_F}/truetype/wqy/wqy-zenhei.ttc",
    f"{_F}/opentype/noto/NotoSansCJK-Regular.ttc",
)
_CORE_FONT = "helvetica"
_UNICODE_FONT = "invoice-sans"
_FIELD_LIMIT = 200
_DESCRIPTION_LIMIT = 500
_TRANSLITERATIONS = {
    **dict(zip("ŁłĐđĦħıŊŋŦŧ", "LlDdHhiNnTt", strict=True)),
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    **{"Œ": "OE", "œ": "oe", "ẞ": "SS", "\u2026": "...", "€": "EUR", "\u2022": "*"},
}

Supported = Callable[[str], bool]


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """Return `invoice` as a one- or multi-page A4 PDF with extractable text.

    Shows "Invoice INV-000042", the issue date, the bill-to block (billing name and address,
    or the customer id when there is no billing name), a table of lines (date, description,
    amount) and the total. The output is deterministic for a given invoice and machine.
    """
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(auto=True, margin=18)
    family, supported = _load_fonts(pdf, _all_text(invoice))

    def clean(text: str | None, limit: int = _FIELD_LIMIT) -> str:
        return sanitize_text(text or "", supported, limit)

    title = f"Invoice {format_invoice_number(invoice.number)}"
    issued = _parse_time(invoice.issued_at)
    pdf.set_creation_date(issued or datetime(2000, 1, 1, tzinfo=UTC))
    pdf.set_title(title)
    pdf.add_page()
    pdf.set_font(family, "B", 18)
    pdf.cell(0, 10, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, "", 10)
    pdf.multi_cell(0, 6, f"Issued: {clean(_date(invoice.issued_at))}", new_x=XPos.LMARGIN)

    pdf.ln(4)
    pdf.set_font(family, "B", 11)
    pdf.cell(0, 6, "Bill to", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, "", 10)
    for line in _bill_to_lines(invoice):
        pdf.multi_cell(0, 5, clean(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if invoice.billing and invoice.billing.name and invoice.billing.name.strip():
        pdf.multi_cell(0, 5, clean(f"Customer ID: {invoice.customer_id}"))

    pdf.ln(6)
    bold = FontFace(emphasis="BOLD")
    with pdf.table(
        col_widths=(22, 56, 22),
        text_align=("LEFT", "LEFT", "RIGHT"),
        line_height=6,
        headings_style=bold,
    ) as table:
        table.row(("Date", "Description", "Amount"))
        for item in invoice.lines:
            row = table.row()
            row.cell(clean(_date(item.at)))
            row.cell(clean(item.description, _DESCRIPTION_LIMIT))
            row.cell(clean(format_money(item.amount, item.currency)))
        total = table.row(style=bold)
        total.cell("Total", colspan=2, align="RIGHT")
        total.cell(clean(format_money(invoice.total, invoice.currency)))
    return bytes(pdf.output())


def sanitize_text(text: str, supported: Supported, limit: int = _FIELD_LIMIT) -> str:
    """Return `text` reduced to one line of characters for which `supported` is true.

    Never raises. The result has at most `limit` characters (cut text ends with `...`).
    """
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text[: limit * 2]):
        category = unicodedata.category(char)
        if char.isspace() or category in ("Zl", "Zp"):
            out.append(" ")
        elif category[0] == "C":
            continue
        elif supported(char):
            out.append(char)
        elif category[0] != "M":  # an unsupported combining mark is just dropped
            out.append(_substitute(char, supported))
    cleaned = " ".join("".join(out).split())
    return cleaned if len(cleaned) <= limit else cleaned[: max(limit - 3, 0)].rstrip() + "..."


def _substitute(char: str, supported: Supported) -> str:
    for candidate in (
        _TRANSLITERATIONS.get(char, ""),
        "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)),
    ):
        if candidate and all(supported(c) and not c.isspace() for c in candidate):
            return candidate
    return "?"


def _load_fonts(pdf: FPDF, texts: Iterable[str]) -> tuple[str, Supported]:
    """Register the best available fonts; return the family and a glyph-coverage test."""
    if not any(_add_font(pdf, _UNICODE_FONT, regular, bold) for regular, bold in PRIMARY_FONTS):
        return _CORE_FONT, lambda char: ord(char) < 0x100  # Latin-1
    covered = set(getattr(pdf.fonts[_UNICODE_FONT], "cmap", {}))
    missing = {ord(c) for text in texts for c in text} - covered
    if any(not unicodedata.category(chr(code)).startswith("C") for code in missing):
        names = [
            f"fallback{i}"
            for i, path in enumerate(FALLBACK_FONTS)
            if _add_font(pdf, f"fallback{i}", path)
        ]
        for name in names:
            covered |= set(getattr(pdf.fonts[name], "cmap", {}))
        if names:
            pdf.set_fallback_fonts(names, exact_match=False)
    return _UNICODE_FONT, lambda char: ord(char) in covered


def _add_font(pdf: FPDF, family: str, regular: str, bold: str | None = None) -> bool:
    """Register a font file (and its bold face, or the same file as bold) if it is usable."""
    if not Path(regular).is_file():
        return False
    try:
        pdf.add_font(family, "", regular)
        if bold is not None:
            pdf.add_font(family, "B", bold if Path(bold).is_file() else regular)
    except Exception:  # an unreadable or unsupported font file: the caller tries the next
        pdf.fonts.pop(family, None)
        pdf.fonts.pop(family + "b", None)
        return False
    return True


def _all_text(invoice: Invoice) -> list[str]:
    texts = [invoice.customer_id, invoice.issued_at, *_bill_to_lines(invoice)]
    for item in invoice.lines:
        texts += [item.description, item.at, item.currency]
    return [text[: _DESCRIPTION_LIMIT * 2] for text in texts]


def _bill_to_lines(invoice: Invoice) -> list[str]:
    billing = invoice.billing
    if billing is None:
        return [invoice.customer_id]
    address = billing.address or Address()
    parts = [
        billing.name if billing.name and billing.name.strip() else invoice.customer_id,
        address.line1,
        address.line2,
        " ".join(p for p in (address.postal_code, address.city) if p),
        address.region,
        address.country,
        billing.email,
        f"Tax ID: {billing.tax_id}" if billing.tax_id else None,
    ]
    return [p for p in parts if p and p.strip()]


def _parse_time(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.strip())
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):  # not ISO-8601, or out of range once in UTC
        return None


def _date(text: str) -> str:
    """The UTC date (YYYY-MM-DD) of an ISO-8601 time, or the text itself if it is not one."""
    parsed = _parse_time(text)
    return parsed.date().isoformat() if parsed else text
