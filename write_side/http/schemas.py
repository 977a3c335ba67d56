"""Request bodies of the command endpoints. Unknown fields are refused (400)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from shared.json_types import JSONObject
from write_side.application.commands import ProfileInput

# `int` before `float`: a JSON integer stays an integer (`3`, not `3.0`), and one beyond
# 2^53 reaches the domain rule intact (422) instead of being rounded into a float.
AttributeValue = str | int | float | bool


class CustomerWrite(msgspec.Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """Body of `POST /customers`, `PUT` and `PATCH /customers/{id}`.

    On create, absent fields are empty. On update, only present fields change and `null`
    clears a field. Lengths and formats are business rules (422), types are syntax (400).
    """

    type: str | UnsetType = UNSET
    first_name: str | UnsetType | None = UNSET
    last_name: str | UnsetType | None = UNSET
    email: str | UnsetType | None = UNSET
    phone: str | UnsetType | None = UNSET
    phone_region: str | UnsetType | None = UNSET
    date_of_birth: str | UnsetType | None = UNSET
    notes: str | UnsetType | None = UNSET
    tags: list[str] | UnsetType | None = UNSET
    # A merge patch (RFC 7396): a `null` value removes that attribute.
    attributes: dict[str, AttributeValue | None] | UnsetType | None = UNSET
    external_id: str | UnsetType | None = UNSET

    def to_input(self) -> ProfileInput:
        """The present fields, keyed by their contract names."""
        fields: JSONObject = {}
        for name, key in (
            ("first_name", "firstName"),
            ("last_name", "lastName"),
            ("email", "email"),
            ("phone", "phone"),
            ("date_of_birth", "dateOfBirth"),
            ("notes", "notes"),
            ("tags", "tags"),
            ("attributes", "attributes"),
            ("external_id", "externalId"),
        ):
            value = getattr(self, name)
            if value is not UNSET:
                fields[key] = value
        return ProfileInput(
            fields=fields,
            customer_type=None if self.type is UNSET else self.type,
            phone_region=self.phone_region if isinstance(self.phone_region, str) else None,
        )


class ReasonBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Optional body of delete, restore and erase; the `reason` query parameter works too.

    A body is never ignored: its reason is recorded and any other field is refused (400).
    """

    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None
