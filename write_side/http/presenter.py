"""Render the Customer aggregate as the API resource."""

from __future__ import annotations

from shared.clock import iso_utc
from shared.resources import CustomerResource, StateChange
from write_side.domain.customer import Customer


def present(customer: Customer) -> CustomerResource:
    """The customer as the write side knows it right after a command."""
    profile = customer.profile
    return CustomerResource(
        id=str(customer.id),
        type=customer.customer_type,
        state=customer.state,
        first_name=profile.get("firstName"),
        last_name=profile.get("lastName"),
        email=profile.get("email"),
        phone=profile.get("phone"),
        date_of_birth=profile.get("dateOfBirth"),
        notes=profile.get("notes"),
        tags=list(profile.get("tags") or []),
        attributes=dict(profile.get("attributes") or {}),
        first_visit_at=getattr(customer, "first_visit_at", None),
        last_visit_at=getattr(customer, "last_visit_at", None),
        visit_count=getattr(customer, "visit_count", 0),
        created_at=iso_utc(customer.created_on),
        updated_at=iso_utc(customer.modified_on),
        deleted_at=customer.deleted_at,
        version=customer.version,
        state_history=[StateChange(**entry) for entry in customer.state_history],
        email_deliverable=customer.email_deliverable,
        external_id=customer.external_id,
        merged_into=customer.merged_into,
    )
