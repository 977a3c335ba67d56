"""One event schema (`shared.events`) for both sides: the aggregate's stored events are exactly
the declared payloads, every payload field says whether it is personal, every stored event
decodes to its payload and encodes back to the very same attributes, and an event nobody
declared is refused wherever it is met."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from read_side.events import EventEnvelope
from read_side.views import evolve
from shared.events.catalog import (
    ATTENDEES_PROCESSED,
    CUSTOMER_EVENTS,
    UnknownEventType,
    decode,
    event_name,
    event_type,
    stored_fields,
)
from shared.events.catalog import (
    CUSTOMER_TOPIC_PREFIX as CUSTOMER_PREFIX,
)
from shared.events.values import ERASED
from shared.integration import to_integration_event
from tests.unit.test_personal_fields import customer_events, other_events
from write_side.application.crypto.personal_paths import PERSONAL_PATHS
from write_side.domain.customer import Customer

BASE = ("originator_id", "originator_version", "timestamp", "tenant_id", "actor")
#: The personal paths events were sealed under before the schema was typed: a change here
#: changes what is stored, so it must be deliberate.
SEALED = {
    "Created": tuple(f"profile.{f}" for f in ("firstName", "lastName", "email", "phone",
                                              "dateOfBirth", "notes", "tags", "attributes", "externalId")),
    "ProfileChanged": tuple(f"changes.{f}" for f in ("firstName", "lastName", "email", "phone",
                                                     "dateOfBirth", "notes", "tags", "attributes", "externalId")),
    "VisitRecorded": ("snapshot",),
    "BillingDetailsSet": ("billing",),
    "InvoiceIssued": ("invoice.billing",),
    "ConsentChanged": ("consent.source",),
    "Deleted": ("reason",),
    "Restored": ("reason",),
    "Erased": ("reason",),
    "PreferencesChanged": ("preferences",),
    "NoteAdded": ("text",),
    "CommunicationRecorded": ("subject",),
    # a merge's copy of the source's data (sealed under the source's key: `customer_id`)
    "MergeAbsorbed": (*(f"values.{f}" for f in ("firstName", "lastName", "email", "phone",
                                                "dateOfBirth", "notes", "tags", "attributes", "externalId")),
                      "billing", "snapshots", "invoice_billing", "consent_sources", "note_texts"),
}  # fmt: skip


def aggregate_event_classes() -> dict[str, type]:
    return {
        name: value
        for name, value in vars(Customer).items()
        if isinstance(value, type) and issubclass(value, Customer.Event) and name != "Event"
    }


def own_attributes(event: Any) -> dict[str, Any]:
    skip = {*BASE, "originator_topic"}
    return {k: v for k, v in vars(event).items() if k not in skip}


def test_the_aggregate_stores_exactly_the_declared_events() -> None:
    """A new event class on `Customer` without a payload in `shared.events` fails here."""
    declared = {event.class_name: event for event in CUSTOMER_EVENTS}
    assert set(aggregate_event_classes()) == set(declared)
    for name, cls in aggregate_event_classes().items():
        fields = tuple(f.name for f in dataclasses.fields(cls))
        own = tuple(f for f in fields if f not in (*BASE, "originator_topic"))
        assert own == declared[name].fields, name


def test_every_payload_field_is_declared_personal_or_public() -> None:
    for event in (*CUSTOMER_EVENTS, ATTENDEES_PROCESSED):
        assert event.paths.undeclared == (), event.name


def test_the_sealed_paths_are_the_ones_events_were_always_sealed_under() -> None:
    assert dict(PERSONAL_PATHS) == SEALED


def test_every_stored_event_decodes_and_encodes_back_unchanged() -> None:
    seen = set()
    for event in customer_events():
        name = event_name(type(event).__qualname__.replace("Customer.", CUSTOMER_PREFIX))
        attributes = own_attributes(event)
        payload = decode(name, attributes)
        assert stored_fields(payload) == attributes, name
        assert decode(name, stored_fields(payload)) == payload, name
        seen.add(name)
    assert seen == {event.name for event in CUSTOMER_EVENTS}


def test_processed_orders_decode_both_ways() -> None:
    record = next(e for e in other_events() if type(e).__name__ == "AttendeesProcessed")
    attributes = {name: getattr(record, name) for name in ATTENDEES_PROCESSED.fields}
    payload = decode(ATTENDEES_PROCESSED.name, attributes)
    assert stored_fields(payload) == attributes


def test_erased_values_decode_in_every_personal_field() -> None:
    """Once a key is shredded every personal value reads "[erased]": still a valid payload."""
    for event in customer_events():
        name = event_name(type(event).__qualname__.replace("Customer.", CUSTOMER_PREFIX))
        attributes = own_attributes(event)
        for path in event_type(name).paths.personal:
            *parents, leaf = path.split(".")
            node = attributes
            for part in parents:
                node = node[part] = dict(node[part])
            node[leaf] = ERASED
        decode(name, attributes)


def test_every_declared_event_folds_in_evolve() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    doc = None
    for version, event in enumerate(customer_events(), start=1):
        name = event_name(type(event).__qualname__.replace("Customer.", CUSTOMER_PREFIX))
        envelope = EventEnvelope(version, "e", name, "c1", version, at, "acme", "a",
                                 own_attributes(event))  # fmt: skip
        doc = evolve(doc, envelope)
        assert doc is not None and doc["version"] == version


def test_an_undeclared_event_is_refused_by_the_fold_and_the_relay() -> None:
    name = event_name(CUSTOMER_PREFIX + "ProfileRenamed")
    assert name == "customer.profile_renamed"
    with pytest.raises(UnknownEventType):
        decode(name, {})
    envelope = EventEnvelope(2, "e", name, "c1", 2, datetime(2026, 1, 1, tzinfo=UTC), "t", "a")
    with pytest.raises(UnknownEventType):
        to_integration_event(envelope)


def test_a_payload_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError):
        decode("customer.order_closed", {"order_id": "o-1", "status": "lost"})
