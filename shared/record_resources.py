"""A customer's records as both sides render them (JSON, camelCase): orders, payments, billing
details, invoices and consents.

The write side answers a command with the record it changed, the read side serves the same
record from the read model, so one set of Structs describes both and the OpenAPI document gets
each response's exact schema. A field some stored records lack (written before it existed) is
`UNSET`: left out of the answer, as it was before these types, never invented.
"""

from __future__ import annotations

import msgspec
from msgspec import UNSET, UnsetType


class Address(msgspec.Struct, rename="camel", kw_only=True):
    """A postal address; every part is optional."""

    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country: str | None = None


class BillingDetails(msgspec.Struct, rename="camel", kw_only=True):
    """The customer's billing details, as set with `PUT /customers/{id}/billing`."""

    name: str | None = None
    email: str | None = None
    tax_id: str | None = None
    address: Address | None = None


class CustomerBilling(msgspec.Struct, rename="camel", kw_only=True):
    """`PUT` and `GET /customers/{id}/billing`."""

    customer_id: str
    billing: BillingDetails


class InvoiceLine(msgspec.Struct, rename="camel", kw_only=True):
    """One invoiced payment (`kind` refund: a negative `amount`)."""

    payment_id: str
    kind: str | UnsetType = UNSET
    description: str
    amount: int
    currency: str
    at: str


class Invoice(msgspec.Struct, rename="camel", kw_only=True):
    """An issued invoice: numbered sequentially per tenant, never reused. `billing` is null
    when none were set, and after an erasure."""

    number: int
    customer_id: str
    tenant_id: str
    issued_at: str
    currency: str
    lines: list[InvoiceLine]
    total: int
    billing: BillingDetails | None = None


class Invoices(msgspec.Struct):
    """`GET /customers/{id}/invoices`: newest first."""

    items: list[Invoice]


class OrderSnapshot(msgspec.Struct, rename="camel", kw_only=True):
    """The customer's names, email and phone when the order was placed."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None


class Order(msgspec.Struct, rename="camel", kw_only=True):
    """An order (a visit). `snapshot` is null after an erasure; `closedAt` is there once the
    order completed or was cancelled."""

    order_id: str
    placed_at: str
    status: str
    first_time: bool
    snapshot: OrderSnapshot | None = None
    closed_at: str | UnsetType = UNSET


class Orders(msgspec.Struct):
    """`GET /customers/{id}/orders`: newest first."""

    items: list[Order]


class Payment(msgspec.Struct, rename="camel", kw_only=True):
    """A payment's latest status as the payment system reported it (`amount` in minor units)."""

    payment_id: str
    order_id: str | None = None
    amount: int
    currency: str
    status: str
    at: str
    method: str | None = None


class Payments(msgspec.Struct):
    """`GET /customers/{id}/payments`: newest first."""

    items: list[Payment]


class ConsentState(msgspec.Struct, rename="camel", kw_only=True):
    """A purpose's current consent, with the time and actor of its last change (`source` is
    null after an erasure). The export keys these by purpose."""

    granted: bool
    source: str | None = None
    legal_basis: str
    at: str
    by: str


class Consent(ConsentState, kw_only=True):
    """`PUT /customers/{id}/consents/{purpose}`, and one item of the consents list."""

    purpose: str


class Consents(msgspec.Struct):
    """`GET /customers/{id}/consents`: one per purpose, by purpose."""

    items: list[Consent]
