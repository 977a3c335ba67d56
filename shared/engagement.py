"""Preferences, contactability, communications, notes and timeline as both sides render them.

The write side answers `PUT .../preferences` with the same `Preferences` the read side serves,
and both fold events into the same default document, so the shapes live here, once.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from shared.json_types import JSONObject

CHANNELS = ("email", "sms", "push")
#: Purposes that need a current consent (`marketing_*` too: see `needs_consent`).
CONSENT_PURPOSES = frozenset({"push"})
#: Purposes that serve a contract the customer entered: no consent needed.
TRANSACTIONAL_PURPOSES = frozenset({"order_confirmation", "appointment_reminder", "invoice"})
COMMUNICATION_CHANNELS = ("email", "sms", "push", "phone", "in_person", "chat")
NOTIFICATION_STATUSES = ("sent", "delivered", "opened", "bounced", "failed")
Reason = Literal[
    "no_consent", "channel_disabled", "no_address", "bounced", "not_active", "quiet_hours"
]


def default_preferences() -> JSONObject:
    """What a customer who never said anything prefers: every channel enabled."""
    return {
        "language": None,
        "timezone": None,
        "channels": {channel: {"enabled": True} for channel in CHANNELS},
        "quietHours": None,
        "paymentMethod": None,
    }


def needs_consent(purpose: str) -> bool:
    """Marketing purposes (`marketing_*`, `push`) need a current consent; others do not."""
    return purpose.startswith("marketing_") or purpose in CONSENT_PURPOSES


class ChannelPreference(msgspec.Struct):
    """Whether the customer accepts messages on a channel."""

    enabled: bool


class ChannelPreferences(msgspec.Struct):
    """One entry per channel."""

    email: ChannelPreference
    sms: ChannelPreference
    push: ChannelPreference


class QuietHours(msgspec.Struct):
    """`HH:MM` in the customer's own timezone; may wrap midnight (`22:00`-`07:00`)."""

    start: str
    end: str


class PaymentMethod(msgspec.Struct, rename="camel"):
    """The preferred way to pay: never more of a card than its brand and last four digits."""

    type: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None


class Preferences(msgspec.Struct, rename="camel"):
    """`GET` and `PUT /customers/{id}/preferences`."""

    language: str | None
    timezone: str | None
    channels: ChannelPreferences
    quiet_hours: QuietHours | None
    payment_method: PaymentMethod | None


def preferences_resource(document: JSONObject | None) -> Preferences:
    """The stored document (or the defaults) as the response Struct."""
    return msgspec.convert(document or default_preferences(), Preferences)


class Note(msgspec.Struct):
    """One note: `POST .../notes` answers it, `GET .../notes` lists them."""

    id: str
    text: str | None
    author: str
    at: str


class NotePage(msgspec.Struct):
    """The notes not deleted, newest first."""

    items: list[Note]


class CommunicationItem(msgspec.Struct, rename="camel"):
    """One communication: logged by hand (`source: manual`) or a notification's status."""

    id: str
    source: str
    channel: str
    direction: str
    purpose: str | None
    subject: str | None
    template: str | None
    status: str | None
    bounce_type: str | None
    at: str
    actor: str | None


class CommunicationPage(msgspec.Struct, rename="camel"):
    """`GET .../communications`: newest first; `nextCursor` continues."""

    items: list[CommunicationItem]
    next_cursor: str | None


def communication_item(data: JSONObject, actor: str | None) -> CommunicationItem:
    """A `communication_recorded` event's data as the list item."""
    return CommunicationItem(
        id=str(data["communication_id"]),
        source=str(data["source"]),
        channel=str(data["channel"]),
        direction=str(data["direction"]),
        purpose=data.get("purpose"),
        subject=data.get("subject"),
        template=data.get("template"),
        status=data.get("status"),
        bounce_type=data.get("bounce_type"),
        at=str(data["at"]),
        actor=actor,
    )
