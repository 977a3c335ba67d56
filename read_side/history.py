"""Audit views computed straight from a customer's event stream (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from read_side.engagement_views import engagement_changes
from read_side.events import EventEnvelope
from read_side.views import PROFILE_KEYS, CustomerDoc, evolve, to_resource
from shared.json_types import JSONObject

_AUDITED_KEYS = (
    *("type", "state", *PROFILE_KEYS, "deletedAt", "billing", "consents", "visitCount"),
    *("preferences", "emailDeliverable"),
)


def history_items(events: Sequence[EventEnvelope]) -> list[JSONObject]:
    """One item per event, oldest first, with field-level `{from, to}` changes."""
    items: list[JSONObject] = []
    doc: CustomerDoc | None = None
    for event in events:
        before = doc or {}
        doc = evolve(doc, event)
        after = doc or {}
        changes = {
            key: {"from": before.get(key), "to": after.get(key)}
            for key in _AUDITED_KEYS
            if before.get(key) != after.get(key)
        } | engagement_changes(event, before)
        items.append(
            {
                "version": event.version,
                "type": event.type,
                "occurredAt": after.get("updatedAt") or event.occurred_at.isoformat(),
                "actor": event.actor,
                "changes": changes,
                "hash": event.hash,
            }
        )
    return items


def state_as_of(events: Sequence[EventEnvelope], moment: datetime) -> JSONObject | None:
    """The customer resource as it was at `moment` (None if it did not exist yet)."""
    doc: CustomerDoc | None = None
    for event in events:
        if event.occurred_at > moment:
            break
        doc = evolve(doc, event)
    return to_resource(doc) if doc is not None else None
