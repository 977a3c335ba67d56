"""Folds of the engagement events into the customer document: preferences, live notes, and
whether the email is deliverable. Communications stay in the event stream (the timeline and
`GET .../communications` read it), so the document a notification sender reads before every
message stays small.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from read_side.events import EventEnvelope
from shared.clock import iso_utc
from shared.engagement import default_preferences
from shared.events import payloads as ev
from shared.json_types import JSONObject


def engagement_defaults() -> JSONObject:
    """The engagement fields of a new customer's document."""
    return {"preferences": default_preferences(), "emailDeliverable": True, "liveNotes": {}}


EngagementPayload = ev.PreferencesChanged | ev.NoteAdded | ev.NoteDeleted | ev.CommunicationRecorded


def fold_engagement(doc: JSONObject, payload: EngagementPayload, event: EventEnvelope) -> None:
    """Fold one typed engagement payload into the customer document."""
    match payload:
        case ev.PreferencesChanged(preferences=preferences):
            # a marker, not a document, once erased: the defaults stand in for it
            doc["preferences"] = (
                msgspec.to_builtins(preferences)
                if isinstance(preferences, dict)
                else default_preferences()
            )
        case ev.NoteAdded():
            doc.setdefault("liveNotes", {})[payload.note_id] = _note(payload, event)
        case ev.NoteDeleted(note_id=note_id):
            doc.setdefault("liveNotes", {}).pop(note_id, None)
        case ev.CommunicationRecorded(
            channel="email", status="bounced", bounce_type="hard", other_address=False
        ):
            doc["emailDeliverable"] = False


def _note(payload: ev.NoteAdded, event: EventEnvelope) -> JSONObject:
    return {
        "id": payload.note_id,
        "text": payload.text,
        "author": event.actor,
        "at": iso_utc(event.occurred_at),
    }


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
    match event.payload:
        case ev.NoteAdded() as added:
            return {"note": {"from": None, "to": _note(added, event)}}
        case ev.NoteDeleted(note_id=note_id):
            deleted: JSONObject | None = (before.get("liveNotes") or {}).get(note_id)
            return {"note": {"from": deleted, "to": None}}
        case ev.CommunicationRecorded() as recorded:
            return {"communication": {"from": None, "to": communication_data(recorded)}}
    return {}


def communication_data(payload: ev.CommunicationRecorded) -> JSONObject:
    """A communication event's payload with the API's names."""
    names = {"communication_id": "id", "bounce_type": "bounceType"}
    data: JSONObject = msgspec.to_builtins(payload)
    data.pop("other_address", None)  # the folds' concern; the API's shape stays
    return {names.get(key, key): value for key, value in data.items()}


def all_notes(events: Sequence[EventEnvelope]) -> list[JSONObject]:
    """Every note ever written, deleted ones with `deletedAt` (for the export)."""
    notes: dict[str, JSONObject] = {}
    for event in events:
        match event.payload:
            case ev.NoteAdded() as added:
                notes[added.note_id] = _note(added, event) | {"deletedAt": None}
            case ev.NoteDeleted(note_id=note_id) if note_id in notes:
                notes[note_id]["deletedAt"] = iso_utc(event.occurred_at)
    return list(notes.values())


def all_communications(events: Sequence[EventEnvelope]) -> list[JSONObject]:
    """Every communication recorded, oldest first (for the export)."""
    return [
        communication_data(event.payload) | {"actor": event.actor}
        for event in events
        if isinstance(event.payload, ev.CommunicationRecorded)
    ]
