"""Decisions about a customer's engagement: preferences, notes and communications.

Kept out of `customer.py` (which holds identity, lifecycle and commerce) as functions over the
aggregate: each checks its rule, then triggers the aggregate's own event class, so the events
are `Customer.<Name>` like every other.
"""

from __future__ import annotations

import msgspec

from shared.errors import Conflict, Forbidden, NotFound
from shared.events import payloads as ev
from shared.json_types import JSONObject
from write_side.domain.customer import Customer
from write_side.domain.customer_fold import communication_key
from write_side.domain.profile import CustomerState

#: A message to or from the customer, as recorded: the event's payload itself.
Communication = ev.CommunicationRecorded


def change_preferences(customer: Customer, *, actor: str, preferences: JSONObject) -> None:
    """Replace the preferences with the merged, checked document (the same: no event)."""
    customer.check_mutable()
    if preferences != customer.preferences:
        customer.raise_event(actor, ev.PreferencesChanged(preferences=preferences))


def add_note(customer: Customer, *, actor: str, note_id: str, text: str) -> None:
    """A note by `actor`; an erased or deleted customer takes none."""
    customer.check_mutable()
    customer.raise_event(actor, ev.NoteAdded(note_id=note_id, text=text))


def delete_note(customer: Customer, *, actor: str, note_id: str, may_delete_any: bool) -> None:
    """Take a note out of lists: its author may, and whoever may delete customers.
    A note deleted already, or never written, is `NotFound`."""
    if customer.state == CustomerState.ERASED.value:
        raise Conflict("The customer is erased.", extra={"state": customer.state})
    note = customer.note_items.get(note_id)
    if note is None:
        raise NotFound("No note with this id.")
    if note["author"] != actor and not may_delete_any:
        raise Forbidden("Only the note's author, or a manager, may delete it.")
    customer.raise_event(actor, ev.NoteDeleted(note_id=note_id))


def addressed_to(
    named: Customer, recorded_on: Customer, communication: Communication
) -> Communication:
    """A sender's status about `named`, recorded on `recorded_on` (the customer it was merged
    into): a hard email bounce concerns the address `named` has, so when the customer it is
    recorded on holds another email it is marked `other_address` and leaves that one
    deliverable (contactability is per current address: docs/decisions.md)."""
    hard = (communication.channel, communication.status, communication.bounce_type) == (
        "email", "bounced", "hard",
    )  # fmt: skip
    if named is recorded_on or not hard:
        return communication
    if _email(named) is not None and _email(named) == _email(recorded_on):
        return communication  # the target holds the source's address (taken by the merge)
    return msgspec.structs.replace(communication, other_address=True)


def _email(customer: Customer) -> str | None:
    email = customer.profile.get("email")
    return email.casefold() if isinstance(email, str) and email else None


def record_communication(customer: Customer, *, actor: str, communication: Communication) -> bool:
    """Record a communication once per id and status; returns whether it was new. An erased
    customer's are refused (`Conflict`): there is nobody left to have talked to."""
    if customer.state == CustomerState.ERASED.value:
        raise Conflict("The customer is erased.", extra={"state": customer.state})
    key = communication_key(communication.communication_id, communication.status)
    if key in customer.communications:
        return False
    customer.raise_event(actor, communication)
    return True
