"""The Customer's commercial record as frozen value objects (issue 11.3): orders, payments and
consents as the aggregate keeps them. They are built from the events' payloads and replaced,
never changed in place, so nothing the aggregate holds is shared with an event.
Billing details and invoices are kept as the events carry them (`BillingDetails`, `Invoice`).
"""

from __future__ import annotations

from typing import TypeVar

import msgspec

from shared.events.values import (
    Consent,
    ErasedValue,
    OrderStatus,
    Payment,
    PaymentStatus,
    Snapshot,
    Value,
)

V = TypeVar("V", bound=msgspec.Struct)


def as_value(kind: type[V], value: V | object) -> V:
    """A value object from itself or from its JSON form (checked: `msgspec.ValidationError`)."""
    return value if isinstance(value, kind) else msgspec.convert(value, kind)


class Order(Value, frozen=True):
    """An order of the customer's (a visit): open while `placed`."""

    order_id: str
    placed_at: str
    status: OrderStatus
    first_time: bool
    snapshot: Snapshot | ErasedValue | None
    closed_at: str | None = None  # when it was completed or cancelled (a merge moves it)

    @property
    def is_open(self) -> bool:
        """Open orders forbid deleting the customer."""
        return self.status is OrderStatus.PLACED


class PaymentRecord(Value, frozen=True):
    """A payment: its latest status message, the date of each status it went through (a
    refund's invoice line keeps its own date, the charge line its own), and which kinds of
    invoice line (`charge`, `refund`) already invoice it."""

    latest: Payment
    dated: dict[PaymentStatus, str]
    invoiced_as: tuple[str, ...] = ()

    @property
    def status(self) -> PaymentStatus:
        """The latest status."""
        return self.latest.status

    def date_of(self, status: PaymentStatus) -> str:
        """When the payment reached `status` (its latest date when that is unknown)."""
        return self.dated.get(status, self.latest.at)


class ConsentRecord(Consent, frozen=True):
    """A consent as last changed: what was given, when and by whom."""

    at: str
    by: str
