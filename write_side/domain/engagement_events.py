"""The Customer's engagement as events: preferences, notes and communications, each with the
fold that keeps the aggregate's state.

Written like `commerce_events`: `Customer` names each class in its body, so eventsourcing
redefines it as `Customer.<Name>` and stores it under `write_side.domain.customer:Customer.*`.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from shared.clock import iso_utc
from shared.engagement import default_preferences
from shared.json_types import JSONObject


class PreferencesChanged(Aggregate.Event):
    """The whole preferences document after a merge patch (folds need no previous state)."""

    tenant_id: str
    actor: str
    preferences: JSONObject

    def apply(self, aggregate: Any) -> None:
        """Keep the new document (once erased, the sealed value reads back as a marker, not a
        document: the defaults stand in for it)."""
        if isinstance(self.preferences, dict):
            aggregate.preferences = dict(self.preferences)
        else:
            aggregate.preferences = default_preferences()


class NoteAdded(Aggregate.Event):
    """A note written about the customer; its author is the event's actor."""

    tenant_id: str
    actor: str
    note_id: str
    text: str

    def apply(self, aggregate: Any) -> None:
        """Keep the note with this event's time."""
        note = {"id": self.note_id, "text": self.text, "author": self.actor}
        aggregate.note_items[self.note_id] = note | {"at": iso_utc(self.timestamp)}


class NoteDeleted(Aggregate.Event):
    """A note taken out of lists; `NoteAdded` keeps its text in the history."""

    tenant_id: str
    actor: str
    note_id: str

    def apply(self, aggregate: Any) -> None:
        """The note leaves the live notes."""
        aggregate.note_items.pop(self.note_id, None)


class CommunicationRecorded(Aggregate.Event):
    """A message to or from the customer: logged by hand, or a notification's status.

    A hard bounce of an email makes the current address undeliverable until it changes."""

    tenant_id: str
    actor: str
    communication_id: str
    source: str  # "manual" or "notification"
    channel: str
    direction: str
    purpose: str | None
    subject: str | None
    template: str | None
    status: str | None
    bounce_type: str | None
    at: str

    def apply(self, aggregate: Any) -> None:
        """Remember it was applied (a redelivery changes nothing); a hard email bounce marks
        the email undeliverable."""
        aggregate.communications.add(communication_key(self.communication_id, self.status))
        if hard_bounce(self.channel, self.status, self.bounce_type):
            aggregate.email_deliverable = False


def communication_key(communication_id: str, status: str | None) -> str:
    """What makes a communication applied once: its id and the status reported."""
    return f"{communication_id}:{status or ''}"


def hard_bounce(channel: str, status: str | None, bounce_type: str | None) -> bool:
    """An email that bounced for good (`bounceType: hard`)."""
    return channel == "email" and status == "bounced" and bounce_type == "hard"
