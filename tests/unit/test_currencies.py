"""A currency enters through a payment message or an invoice request; both accept exactly the
active ISO 4217 codes an invoice can be in, so a payment is never recorded in a currency that
no invoice request could then name (issue 10.7)."""

from __future__ import annotations

import json

import msgspec
import pytest

from shared.currencies import INVOICE_CURRENCIES, is_invoice_currency
from shared.integration import PaymentEvent, decode_inbound


def payment(currency: str) -> bytes:
    body = {"paymentId": "p1", "tenantId": "acme", "amount": 100, "currency": currency,
            "at": "2026-11-20T11:00:00Z", "customerId": "c1"}  # fmt: skip
    return json.dumps(body).encode()


@pytest.mark.parametrize("code", ["EUR", "USD", "JPY", "KWD", "GBP", "CHF", "XOF"])
def test_real_currencies_are_accepted_everywhere(code: str) -> None:
    assert is_invoice_currency(code)
    message = decode_inbound("payment.succeeded", payment(code))
    assert isinstance(message, PaymentEvent) and message.currency == code


@pytest.mark.parametrize("code", ["ABC", "XAU", "XTS", "XXX", "HRK", "eur", "EURO", ""])
def test_other_codes_are_refused_everywhere(code: str) -> None:
    assert not is_invoice_currency(code)
    with pytest.raises(msgspec.ValidationError):
        decode_inbound("payment.succeeded", payment(code))


def test_the_list_is_iso_shaped() -> None:
    assert len(INVOICE_CURRENCIES) > 150
    assert all(len(code) == 3 and code.isalpha() and code.isupper() for code in INVOICE_CURRENCIES)
