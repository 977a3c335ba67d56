"""Request bodies of the order, billing, consent and erasure endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec


class AttendeeBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """One attendee of an order."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    phone_region: str | None = None


class AttendeesBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """Body of `POST /customers/attendees`."""

    # The document states these bounds; the handler checks them again, trimmed.
    order_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")] = (
        msgspec.field(name="orderId")
    )
    placed_at: datetime
    attendees: Annotated[list[AttendeeBody], msgspec.Meta(min_length=1, max_length=100)]


class AddressBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """A postal address."""

    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country: str | None = None


class InvoiceBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Optional body of `POST /customers/{id}/invoices`: never ignored, other fields 400."""

    currency: str | None = None


class BillingBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """Body of `PUT /customers/{id}/billing`."""

    name: str | None = None
    email: str | None = None
    tax_id: str | None = None
    address: AddressBody | None = None

    def to_dict(self) -> dict[str, object]:
        """Contract field names."""
        address = None
        if self.address is not None:
            address = {
                "line1": self.address.line1,
                "line2": self.address.line2,
                "city": self.address.city,
                "postalCode": self.address.postal_code,
                "region": self.address.region,
                "country": self.address.country,
            }
        return {"name": self.name, "email": self.email, "taxId": self.tax_id, "address": address}


class ConsentBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """Body of `PUT /customers/{id}/consents/{purpose}`."""

    granted: bool
    source: str | None = None
    legal_basis: str | None = None
