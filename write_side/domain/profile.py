"""The customer profile: which fields exist, how input is normalised, and the per-type rules."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import msgspec

from shared.errors import FieldError, FieldErrors, ValidationFailed
from shared.events.values import PROFILE_FIELDS as PROFILE_FIELDS
from shared.events.values import CustomerState as CustomerState
from shared.events.values import CustomerType as CustomerType
from shared.events.values import ProfileFields
from shared.json_types import JSONObject
from write_side.domain import values

IDENTIFYING_FIELDS = ("firstName", "lastName", "email", "phone")
PERSONAL_FIELDS = ("firstName", "lastName", "email", "phone", "dateOfBirth", "notes")

Profile = JSONObject


def empty_profile() -> Profile:
    """A profile with every field unset."""
    return dict.fromkeys(PROFILE_FIELDS) | {"tags": [], "attributes": {}}


def merge_attributes(current: Mapping[str, Any], patch: Mapping[str, Any]) -> JSONObject:
    """RFC 7396 on the attribute object: present keys replace, `null` removes, the rest stay.

    PUT and PATCH are contracted as merge patches; replacing the whole object dropped every
    attribute the client did not repeat. On create the current object is empty, so a `null`
    simply leaves the key out.
    """
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def normalize_fields(
    raw: Mapping[str, Any], *, region: str, today: date, errors: FieldErrors
) -> Profile:
    """Normalise the given profile fields; `None` clears a field. Refusals go to `errors`."""
    result: Profile = {}
    for name, value in raw.items():
        if name not in PROFILE_FIELDS:
            errors.add(name, "is not a customer field")
            continue
        if value is None:
            result[name] = [] if name == "tags" else {} if name == "attributes" else None
            continue
        try:
            result[name] = _normalize_one(name, value, region=region, today=today)
        except values.InvalidValue as error:
            errors.add(name, str(error))
    return result


def _normalize_one(name: str, value: Any, *, region: str, today: date) -> Any:
    if name in ("firstName", "lastName"):
        return values.normalize_name(value)
    if name == "email":
        return values.normalize_email(value)
    if name == "phone":
        return values.normalize_phone(value, region)
    if name == "dateOfBirth":
        return values.normalize_date_of_birth(value, today)
    if name == "notes":
        return values.normalize_notes(value)
    if name == "externalId":
        return values.normalize_external_id(value)
    if name == "tags":
        return values.normalize_tags(list(value))
    return values.normalize_attributes(dict(value))


def check_type_rules(profile: Mapping[str, Any], customer_type: CustomerType) -> FieldErrors:
    """Rules that hold on the whole profile: identifying fields and per-type requirements."""
    errors = FieldErrors()
    if not any(profile.get(name) for name in IDENTIFYING_FIELDS):
        for name in IDENTIFYING_FIELDS:
            errors.add(name, "at least one of firstName, lastName, email, phone is required")
        return errors
    if customer_type is CustomerType.REGULAR:
        for name in ("firstName", "lastName", "email"):
            if not profile.get(name):
                errors.add(name, "is required for a regular customer")
    if customer_type is CustomerType.ANONYMOUS:
        for name in ("email", "phone"):
            if profile.get(name):
                errors.add(name, "must be empty for an anonymous customer")
    return errors


def registered_profile(profile: Profile, customer_type: CustomerType) -> Profile:
    """A new customer's whole profile as its creation event stores it (every field, typed by
    the payload), after the per-type rules (`ValidationFailed`)."""
    full = empty_profile() | profile
    check_type_rules(full, customer_type).raise_if_any()
    stored: Profile = msgspec.to_builtins(msgspec.convert(full, ProfileFields))
    return stored


def assert_valid_type(value: str) -> CustomerType:
    """Parse a customer type, refusing unknown names with a field error."""
    try:
        return CustomerType(value)
    except ValueError as error:
        allowed = ", ".join(t.value for t in CustomerType)
        raise ValidationFailed(
            "Unknown customer type.",
            errors=[FieldError("type", f"must be one of {allowed}")],
        ) from error
