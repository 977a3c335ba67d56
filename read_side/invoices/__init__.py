"""Invoices: the invoice document model and its PDF rendering.

`render_invoice_pdf` imports the renderer (fpdf2, Pillow) on first use, so code that only
needs the model does not pay for loading the PDF library.
"""

from __future__ import annotations

from read_side.invoices.model import (
    Address,
    BillingDetails,
    Invoice,
    InvoiceLine,
    format_invoice_number,
    format_money,
)

__all__ = [
    "Address",
    "BillingDetails",
    "Invoice",
    "InvoiceLine",
    "format_invoice_number",
    "format_money",
    "render_invoice_pdf",
]


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """Return `invoice` as PDF bytes (see `read_side.invoices.pdf.render_invoice_pdf`)."""
    from read_side.invoices import pdf

    return pdf.render_invoice_pdf(invoice)
