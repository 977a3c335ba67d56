"""The invoice document (JSON, camelCase; `shared.record_resources`, the shape both sides answer
with) and the money and number formats it is printed with.

Amounts are integers in the currency's minor unit (cents for EUR, yen for JPY, fils for KWD);
refund lines carry negative amounts. Nothing here performs I/O.
"""

from __future__ import annotations

from shared.record_resources import Address, BillingDetails, Invoice, InvoiceLine

__all__ = [
    "Address",
    "BillingDetails",
    "Invoice",
    "InvoiceLine",
    "format_invoice_number",
    "format_money",
    "minor_unit_exponent",
]

# ISO 4217 currencies whose minor unit is not 1/100. Anything not listed uses 2 decimals,
# which is right for the great majority of codes and a harmless guess for unknown ones.
_MINOR_UNIT_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


def minor_unit_exponent(currency: str) -> int:
    """Return the number of decimals of `currency`'s minor unit (2 when unknown)."""
    return _MINOR_UNIT_EXPONENTS.get(currency.strip().upper(), 2)


def format_money(amount_minor: int, currency: str) -> str:
    """Format an amount in minor units, e.g. `format_money(-1250, "EUR") == "-12.50 EUR"`.

    The decimal point is always `.` and there is no digit grouping, so the text is the same
    in every locale. Integer arithmetic only: no float rounding.
    """
    code = currency.strip().upper()
    exponent = minor_unit_exponent(code)
    sign = "-" if amount_minor < 0 else ""
    units, fraction = divmod(abs(amount_minor), 10**exponent)
    number = f"{units}.{fraction:0{exponent}d}" if exponent else str(units)
    return f"{sign}{number} {code}".rstrip()


def format_invoice_number(number: int) -> str:
    """Return the printed invoice number, e.g. `format_invoice_number(42) == "INV-000042"`."""
    return f"INV-{number:06d}"
