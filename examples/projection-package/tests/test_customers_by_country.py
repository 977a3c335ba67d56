"""The projection on its own: events in, counts out (no service needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from customers_by_country import COUNTRIES, CustomersByCountry


@dataclass
class Event:
    type: str
    tenant_id: str
    customer_id: str
    data: dict[str, Any] = field(default_factory=dict)


def billing(customer: str, country: str | None) -> Event:
    address = {"line1": "1 Main St", "country": country} if country else {}
    return Event(
        "customer.billing_details_set", "acme", customer, {"billing": {"address": address}}
    )


def run(events: list[Event]) -> dict[str, Any]:
    projection, docs = CustomersByCountry(), dict[str, dict[str, Any]]()
    for event in events:
        given = {key: docs.setdefault(key, {}) for key in projection.keys(event)}
        projection.apply(event, given)
    return docs[COUNTRIES]


def test_counts_customers_by_their_current_country() -> None:
    counts = run([billing("a", "fr"), billing("b", "FR"), billing("c", "US"), billing("a", "DE")])
    assert counts == {"FR": 1, "US": 1, "DE": 1}


def test_an_address_without_country_or_unreadable_counts_nowhere() -> None:
    unreadable = Event("customer.billing_details_set", "acme", "c", {"billing": "[erased]"})
    assert run([billing("a", "FR"), billing("a", None), billing("b", "US"), unreadable]) == {
        "US": 1
    }


def test_it_names_itself_as_the_service_expects() -> None:
    projection = CustomersByCountry()
    assert projection.name == "customers_by_country"
    assert projection.version >= 1
    assert projection.events == {"customer.billing_details_set"}
