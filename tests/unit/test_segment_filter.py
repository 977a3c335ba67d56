"""The segment filter language: every key parses and filters as the contract says; unknown
keys and bad values are refused together (422), each named `filter.<key>`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from read_side.segments.membership import contactable, matches, total_spent
from shared.errors import ValidationFailed
from shared.segment_filter import KEYS, parse_filter

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def doc(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "c1", "state": "active", "type": "regular", "firstName": "Zoë", "lastName": "Lee",
        "email": "zoe@example.com", "phone": "+14155552671", "tags": ["vip", "eu"],
        "attributes": {"seats": 3, "plan": "gold"}, "consents": {"marketing_email": {"granted": True}},
        "createdAt": "2026-06-01T10:00:00.000Z", "visitCount": 4,
        "lastVisitAt": "2026-11-20T10:00:00.000Z",
        "payments": {"p1": {"status": "succeeded", "amount": 5000, "currency": "EUR"},
                     "p2": {"status": "refunded", "amount": 900, "currency": "EUR"},
                     "p3": {"status": "succeeded", "amount": 700, "currency": "USD"}},
    }  # fmt: skip
    return base | fields


CASES: list[tuple[dict[str, Any], dict[str, Any], bool]] = [
    ({"q": "zoe lee"}, {}, True),
    ({"q": "zoe 415"}, {}, True),
    ({"q": "bob"}, {}, False),
    ({"type": "regular"}, {}, True),
    ({"type": "new"}, {}, False),
    ({"state": "deleted"}, {}, False),
    ({"state": "deleted"}, {"state": "deleted"}, True),
    ({}, {"state": "deleted"}, False),  # active by default, as GET /customers
    ({"tag": ["vip", "eu"]}, {}, True),
    ({"tag": ["vip", "us"]}, {}, False),
    ({"attr": ["seats:3", "plan:gold"]}, {}, True),
    ({"attr": ["plan:silver"]}, {}, False),
    ({"consent": "marketing_email"}, {}, True),
    ({"consent": "push"}, {}, False),
    ({"createdFrom": "2026-05-01T00:00:00Z", "createdTo": "2026-07-01T00:00:00+02:00"}, {}, True),
    ({"createdFrom": "2026-07-01T00:00:00Z"}, {}, False),
    ({"visitCountMin": 4, "visitCountMax": 4}, {}, True),
    ({"visitCountMin": 5}, {}, False),
    ({"lastVisitWithinDays": 30}, {}, True),
    ({"lastVisitWithinDays": 5}, {}, False),
    ({"lastVisitWithinDays": 30}, {"lastVisitAt": None}, False),
    ({"noVisitWithinDays": 5}, {}, True),
    ({"noVisitWithinDays": 30}, {}, False),
    ({"noVisitWithinDays": 30}, {"lastVisitAt": None}, True),
    ({"totalSpentMin": {"amount": 5000, "currency": "EUR"}}, {}, True),
    ({"totalSpentMin": {"amount": 5001, "currency": "EUR"}}, {}, False),
    ({"tier": "gold"}, {"tier": "gold"}, True),  # the view holds `tier` (customer.tier_changed)
    ({"tier": "gold"}, {}, False),
    ({"hasEmail": True, "hasPhone": True}, {}, True),
    ({"hasPhone": False}, {}, False),
    ({"contactableFor": "marketing_email"}, {}, True),
    ({"contactableFor": "marketing_sms"}, {}, False),
    ({"contactableFor": "invoice"}, {"consents": {}}, True),
]


@pytest.mark.parametrize(("raw", "changes", "member"), CASES)
def test_each_key_filters_as_the_contract_says(
    raw: dict[str, Any], changes: dict[str, Any], member: bool
) -> None:
    assert matches(parse_filter(raw), doc(**changes), NOW) is member


def test_every_key_of_the_contract_is_covered() -> None:
    covered = {key for raw, _, _ in CASES for key in raw}
    assert covered == set(KEYS)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"colour": "red"}, "filter.colour"),
        ({"q": ""}, "filter.q"),
        ({"q": 5}, "filter.q"),
        ({"type": "vip"}, "filter.type"),
        ({"state": "gone"}, "filter.state"),
        ({"tag": [""]}, "filter.tag"),
        ({"tag": [1]}, "filter.tag"),
        ({"attr": ["novalue"]}, "filter.attr"),
        ({"consent": "Marketing Email"}, "filter.consent"),
        ({"createdFrom": "2026-01-01"}, "filter.createdFrom"),
        (
            {"createdFrom": "2026-02-01T00:00:00Z", "createdTo": "2026-01-01T00:00:00Z"},
            "filter.createdFrom",
        ),
        ({"visitCountMin": -1}, "filter.visitCountMin"),
        ({"visitCountMax": True}, "filter.visitCountMax"),
        ({"visitCountMin": 3, "visitCountMax": 2}, "filter.visitCountMin"),
        ({"lastVisitWithinDays": 0}, "filter.lastVisitWithinDays"),
        ({"noVisitWithinDays": "30"}, "filter.noVisitWithinDays"),
        ({"totalSpentMin": {"amount": 10}}, "filter.totalSpentMin"),
        ({"totalSpentMin": {"amount": -1, "currency": "EUR"}}, "filter.totalSpentMin"),
        ({"totalSpentMin": {"amount": 1, "currency": "EURO"}}, "filter.totalSpentMin"),
        ({"tier": ""}, "filter.tier"),
        ({"hasEmail": "yes"}, "filter.hasEmail"),
        ({"hasPhone": 1}, "filter.hasPhone"),
        ({"contactableFor": "Email!"}, "filter.contactableFor"),
    ],
)
def test_bad_keys_and_values_are_refused_naming_the_key(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_filter(raw)
    assert field in [error.field for error in refused.value.errors]


def test_every_bad_key_is_named_at_once() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_filter({"colour": 1, "type": "x", "hasEmail": 2})
    assert {e.field for e in refused.value.errors} == {
        "filter.colour",
        "filter.type",
        "filter.hasEmail",
    }


def test_spend_nets_refunds_and_contactability_needs_an_active_customer() -> None:
    assert total_spent(doc(), "EUR") == 5000 and total_spent(doc(), "USD") == 700
    assert not contactable(doc(state="deleted"), "invoice", NOW)
    no_push = {"channels": {"push": {"enabled": False}}}
    assert not contactable(doc(email=None, phone=None, preferences=no_push), "invoice", NOW)
    assert contactable(doc(emailDeliverable=False), "invoice", NOW)  # by SMS
