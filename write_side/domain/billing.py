"""Billing details: validated like the profile (trimmed, bounded, no control characters)."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from shared.countries import is_assigned_country
from shared.errors import FieldErrors
from shared.events.values import BillingDetails
from shared.json_types import JSONObject
from write_side.domain import values

ADDRESS_FIELDS = ("line1", "line2", "city", "postalCode", "region", "country")


def normalize_billing(raw: Mapping[str, object]) -> BillingDetails:
    """Validated billing details; every offending field is named at once (`ValidationFailed`)."""
    errors = FieldErrors()
    result: JSONObject = {}
    for name, limit in (("name", 200), ("taxId", 50)):
        result[name] = _text(raw.get(name), name, limit, errors)
    email = raw.get("email")
    result["email"] = None
    if email is not None:
        try:
            result["email"] = values.normalize_email(str(email))
        except values.InvalidValue as error:
            errors.add("email", str(error))
    address = raw.get("address")
    result["address"] = None
    if isinstance(address, Mapping):
        clean = {
            field: _text(address.get(field), f"address.{field}", 200, errors)
            for field in ADDRESS_FIELDS
        }
        country = clean.get("country")
        if country is not None:
            country = clean["country"] = country.upper()
            if not is_assigned_country(country):
                errors.add("address.country", "must be an ISO 3166-1 alpha-2 country code")
        if not any(address.get(field) is not None for field in ADDRESS_FIELDS):
            errors.add("address", "needs at least one field; send null for no address")
        result["address"] = clean
    if not errors.items and not any(result.values()):
        errors.add("name", "billing details need at least a name, an email or an address")
    errors.raise_if_any("Invalid billing details.")
    return msgspec.convert(result, BillingDetails)


def _text(value: object, name: str, limit: int, errors: FieldErrors) -> str | None:
    """`None` empties the field; a blank string is refused like a blank customer name."""
    if value is None:
        return None
    try:
        return values.normalize_text(str(value), max_length=limit)
    except values.InvalidValue as error:
        errors.add(name, str(error))
        return None
