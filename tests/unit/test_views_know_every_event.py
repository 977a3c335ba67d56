"""The read side folds every event the write side can store, and refuses one it does not know.

Before, an event type missing from `read_side.views` only bumped the document's version: a
renamed or new event would have been dropped from every read model without a sound.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

import pytest
from eventsourcing.domain import Aggregate

from read_side.events import EventEnvelope
from read_side.views import evolve, folded_event_types
from shared.events.catalog import CUSTOMER_TOPIC_PREFIX, UnknownEventType, event_name
from write_side.domain.customer import Customer

ABSTRACT = {"Event", "StateEvent"}


def stored_event_types() -> set[str]:
    """The dotted names under which the Customer aggregate's events reach the read side."""
    classes = inspect.getmembers(Customer, inspect.isclass)
    return {
        event_name(CUSTOMER_TOPIC_PREFIX + name)
        for name, cls in classes
        if issubclass(cls, Aggregate.Event) and name not in ABSTRACT
    }


def test_every_customer_event_has_a_fold() -> None:
    stored = stored_event_types()
    assert "customer.erased" in stored and len(stored) >= 10
    assert stored <= folded_event_types(), stored - folded_event_types()


def test_an_event_type_the_views_do_not_know_stops_the_fold() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    created_data = {"customer_type": "new", "profile": {}}
    created = EventEnvelope(1, "e1", "customer.created", "c1", 1, at, "acme", "a", created_data)
    doc = evolve(None, created)
    renamed = EventEnvelope(2, "e2", "customer.profile_renamed", "c1", 2, at, "acme", "a", {})
    with pytest.raises(UnknownEventType, match=r"customer\.profile_renamed"):
        evolve(doc, renamed)
