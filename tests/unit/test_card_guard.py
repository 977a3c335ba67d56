"""A full card number in any body is refused; phones, ids, dates and UUIDs pass."""

from __future__ import annotations

import uuid

import pytest

from shared.http.card_guard import holds_card_number


@pytest.mark.parametrize(
    "body",
    [
        b'{"paymentMethod": {"type": "card", "last4": "4111111111111111"}}',
        b'{"notes": "card 4111111111111111 exp 12/28"}',
        b'{"attributes": {"x": 4000056655665556}}',
        b'{"text": "1234567890123"}',  # 13 digits, not Luhn-valid: still refused
        b'{"text": "4111 1111 1111 1111"}',
        b'{"text": "4111-1111-1111-1111"}',
        b'{"text": "3782 822463 10005"}',
        b'{"text": "\\u0034111111111111111"}',
        b"4111111111111111",
    ],
)
def test_a_card_number_anywhere_is_found(body: bytes) -> None:
    assert holds_card_number(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"phone": "+8613812345678"}',  # E.164, 13 digits after the +
        b'{"phone": "(415) 555-2671"}',
        b'{"placedAt": "2026-12-01T10:00:00Z", "orderId": "123456789012"}',
        b'{"text": "from 2026-12-01 to 2026-12-05"}',
        b'{"last4": "4242", "expYear": 2030}',
    ],
)
def test_what_is_not_a_card_number_passes(body: bytes) -> None:
    assert not holds_card_number(body)


def test_uuids_never_look_like_card_numbers() -> None:
    for _ in range(20_000):
        assert not holds_card_number(f'{{"orderId": "{uuid.uuid4()}"}}'.encode())
