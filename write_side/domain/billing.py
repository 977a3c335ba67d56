"""Billing details: validated like the profile (trimmed, bounded, no control characters)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.errors import FieldErrors
from write_side.domain import values

_COUNTRY = re.compile(r"^[A-Z]{2}$")
ADDRESS_FIELDS = ("line1", "line2", "city", "postalCode", "region", "country")


def normalize_billing(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validated billing details; every offending field is named at once (422)."""
    errors = FieldErrors()
    result: dict[str, Any] = {}
    for name, limit in (("name", 200), ("taxId", 50)):
        result[name] = _text(raw.get(name), name, limit, errors)
    email = raw.get("email")
    result["email"] = None
    if email:
        try:
            result["email"] = values.normalize_email(email)
        except values.InvalidValue as error:
            errors.add("email", str(error))
    address = raw.get("address")
    result["address"] = None
    if address is not None:
        clean = {
            field: _text(address.get(field), f"address.{field}", 200, errors)
            for field in ADDRESS_FIELDS
        }
        country = clean.get("country")
        if country is not None:
            country = clean["country"] = country.upper()
            if not _COUNTRY.match(country):
                errors.add("address.country", "must be an ISO 3166 alpha-2 code")
        result["address"] = clean
    if not any(result.values()):
        errors.add("name", "billing details need at least a name, an email or an address")
    errors.raise_if_any("Invalid billing details.")
    return result


def _text(value: Any, name: str, limit: int, errors: FieldErrors) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return values.normalize_text(str(value), max_length=limit)
    except values.InvalidValue as error:
        errors.add(name, str(error))
        return None
