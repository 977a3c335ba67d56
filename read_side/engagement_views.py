"""Folds of the engagement events into the customer document: preferences, live notes, and
whether the email is deliverable. Communications stay in the event stream (the timeline and
`GET .../communications` read it), so the document a notification sender reads before every
message stays small.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from read_side.events import EventEnvelope
from shared.clock import iso_utc
from shared.engagement import default_preferences
from shared.json_types import JSONObject

Fold = Callable[[JSONObject, EventEnvelope], None]


def engagement_defaults() -> JSONObject:
    """The engagement fields of a new customer's document."""
    return {"preferences": default_preferences(), "emailDeliverable": True, "liveNotes": {}}


def _preferences_changed(doc: JSONObject, event: EventEnvelope) -> None:
    preferences = event.data.get("preferences")  # a marker, not a document, once erased
    doc["preferences"] = (
        dict(preferences) if isinstance(preferences, dict) else default_preferences()
    )


def _note_added(doc: JSONObject, event: EventEnvelope) -> None:
    note_id = str(event.data["note_id"])
    doc.setdefault("liveNotes", {})[note_id] = {
        "id": note_id,
        "text": event.data.get("text"),
        "author": event.actor,
        "at": iso_utc(event.occurred_at),
    }


def _note_deleted(doc: JSONObject, event: EventEnvelope) -> None:
    doc.setdefault("liveNotes", {}).pop(str(event.data["note_id"]), None)


def _communication_recorded(doc: JSONObject, event: EventEnvelope) -> None:
    data = event.data
    if (data.get("channel"), data.get("status"), data.get("bounce_type")) == (
        "email",
        "bounced",
        "hard",
    ):
        doc["emailDeliverable"] = False


def email_changed(doc: JSONObject, changes: JSONObject) -> None:
    """A new address is deliverable until it bounces (called by the profile fold)."""
    if "email" in changes:
        doc["emailDeliverable"] = True


def erase_engagement(doc: JSONObject) -> None:
    """Erasure: preferences back to the defaults, note texts gone (ids, authors and times stay
    as the non-personal facts)."""
    doc["preferences"] = default_preferences()
    for note in (doc.get("liveNotes") or {}).values():
        note["text"] = None


def engagement_changes(event: EventEnvelope, before: JSONObject) -> JSONObject:
    """History `changes` of a note or communication event, which the document's fields do not
    show: the note added or deleted (its text stays in the history), the communication."""
    if event.type == "customer.note_added":
        note = {"id": event.data["note_id"], "text": event.data.get("text"), "author": event.actor}
        return {"note": {"from": None, "to": note | {"at": iso_utc(event.occurred_at)}}}
    if event.type == "customer.note_deleted":
        deleted: JSONObject | None = (before.get("liveNotes") or {}).get(str(event.data["note_id"]))
        return {"note": {"from": deleted, "to": None}}
    if event.type == "customer.communication_recorded":
        return {"communication": {"from": None, "to": communication_data(event.data)}}
    return {}


def communication_data(data: JSONObject) -> JSONObject:
    """A communication event's data with the API's names."""
    names = {"communication_id": "id", "bounce_type": "bounceType"}
    return {names.get(key, key): value for key, value in data.items()}


def all_notes(events: Sequence[EventEnvelope]) -> list[JSONObject]:
    """Every note ever written, deleted ones with `deletedAt` (for the export)."""
    notes: dict[str, JSONObject] = {}
    for event in events:
        if event.type == "customer.note_added":
            notes[str(event.data["note_id"])] = {
                "id": event.data["note_id"],
                "text": event.data.get("text"),
                "author": event.actor,
                "at": iso_utc(event.occurred_at),
                "deletedAt": None,
            }
        elif event.type == "customer.note_deleted" and str(event.data["note_id"]) in notes:
            notes[str(event.data["note_id"])]["deletedAt"] = iso_utc(event.occurred_at)
    return list(notes.values())


def all_communications(events: Sequence[EventEnvelope]) -> list[JSONObject]:
    """Every communication recorded, oldest first (for the export)."""
    return [
        communication_data(event.data) | {"actor": event.actor}
        for event in events
        if event.type == "customer.communication_recorded"
    ]


ENGAGEMENT_FOLDS: dict[str, Fold] = {
    "customer.preferences_changed": _preferences_changed,
    "customer.note_added": _note_added,
    "customer.note_deleted": _note_deleted,
    "customer.communication_recorded": _communication_recorded,
}
