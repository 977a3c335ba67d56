"""Request bodies of the engagement commands. Unknown fields are refused (400); lengths and
formats the document can state are refused there too, the rest is a business rule (422)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from shared.engagement import COMMUNICATION_CHANNELS
from shared.json_types import JSONObject

HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
PaymentType = Literal["card", "sepa_debit", "paypal", "cash", "invoice"]
Channel = Literal["email", "sms", "push", "phone", "in_person", "chat"]
assert set(COMMUNICATION_CHANNELS) == set(Channel.__args__)  # type: ignore[attr-defined]


class _Patch(msgspec.Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """A merge-patch object: an absent field is left alone, `null` clears it."""


class ChannelPatch(_Patch):
    """`{enabled}` of one channel."""

    enabled: bool | UnsetType = UNSET


class ChannelsPatch(_Patch):
    """The channels to change."""

    email: ChannelPatch | UnsetType | None = UNSET
    sms: ChannelPatch | UnsetType | None = UNSET
    push: ChannelPatch | UnsetType | None = UNSET


class QuietHoursPatch(_Patch):
    """`HH:MM` in the customer's timezone; both ends are needed once merged."""

    start: HHMM | UnsetType | None = UNSET
    end: HHMM | UnsetType | None = UNSET


class PaymentMethodPatch(_Patch):
    """Brand and last four digits at most: a full card number anywhere is refused (422)."""

    type: PaymentType | UnsetType | None = UNSET
    brand: Annotated[str, msgspec.Meta(max_length=30)] | UnsetType | None = UNSET
    last4: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}$")] | UnsetType | None = UNSET
    exp_month: Annotated[int, msgspec.Meta(ge=1, le=12)] | UnsetType | None = UNSET
    exp_year: Annotated[int, msgspec.Meta(ge=2000, le=2100)] | UnsetType | None = UNSET


class PreferencesPatch(_Patch):
    """Body of `PUT /customers/{id}/preferences`: a JSON merge patch (RFC 7396)."""

    language: Annotated[str, msgspec.Meta(max_length=35)] | UnsetType | None = UNSET
    timezone: Annotated[str, msgspec.Meta(max_length=64)] | UnsetType | None = UNSET
    channels: ChannelsPatch | UnsetType | None = UNSET
    quiet_hours: QuietHoursPatch | UnsetType | None = UNSET
    payment_method: PaymentMethodPatch | UnsetType | None = UNSET

    def to_patch(self) -> JSONObject:
        """The patch as JSON (camelCase keys; absent fields left out, `null` kept)."""
        patch: JSONObject = msgspec.to_builtins(self)
        return patch


class NoteBody(msgspec.Struct, forbid_unknown_fields=True):
    """Body of `POST /customers/{id}/notes`."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class CommunicationBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of `POST /customers/{id}/communications`: one logged by hand."""

    channel: Channel
    direction: Literal["inbound", "outbound"]
    purpose: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,49}$")] | None = None
    subject: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
