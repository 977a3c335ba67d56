"""Customers per country of their billing address: an example of a projection that another
package adds to customer-management through the `customers.projections` entry point.

Per tenant it keeps one `countries` document (`{"FR": 12, "US": 30, ...}`) and, per customer,
a document under a hashed id holding only the country counted for that customer (so a change
of billing address moves the customer from one country to the other). No personal value is
stored. An erasure changes nothing here: the numbers stay. (A rebuild after an erasure cannot
read the erased customer's billing address any more, so that customer is no longer counted.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, MutableMapping
from typing import Any, Protocol

__all__ = ["COUNTRIES", "CustomersByCountry"]

COUNTRIES = "countries"
Document = dict[str, Any]


class Event(Protocol):
    """What this projection reads of the service's event envelope."""

    type: str
    tenant_id: str
    customer_id: str
    data: dict[str, Any]


def _customer_key(event: Event) -> str:
    digest = hashlib.sha256(f"by-country:{event.tenant_id}:{event.customer_id}".encode())
    return "customer:" + digest.hexdigest()[:32]


def billing_country(event: Event) -> str | None:
    """The country of the billing address the event sets (None: none, or unreadable)."""
    billing = event.data.get("billing")
    if not isinstance(billing, dict):
        return None
    address = billing.get("address")
    country = address.get("country") if isinstance(address, dict) else None
    return country.upper() if isinstance(country, str) and country else None


class CustomersByCountry:
    """The projection (the entry point names this class)."""

    name = "customers_by_country"
    version = 1
    description = "customers per billing-address country (example package)"
    events = frozenset({"customer.billing_details_set"})

    def keys(self, event: Event) -> Iterable[str]:
        """The customer's own document and the tenant's counts."""
        return (_customer_key(event), COUNTRIES)

    def apply(self, event: Event, docs: MutableMapping[str, Document]) -> None:
        """Move the customer from the country counted before to the new one."""
        customer, counts = docs.get(_customer_key(event)), docs.get(COUNTRIES)
        if customer is None or counts is None:
            return  # one of them has seen this event already
        before, after = customer.get("country"), billing_country(event)
        if before == after:
            return
        if before is not None:
            counts[before] = counts.get(before, 0) - 1
            if counts[before] <= 0:
                del counts[before]
        if after is not None:
            counts[after] = counts.get(after, 0) + 1
        customer.clear()
        if after is not None:
            customer["country"] = after
