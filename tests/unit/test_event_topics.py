"""The stored shape of every Customer event: its topic and its fields. Stored events are read
back by these names, so moving an event's code (as `commerce_events` did) must not move
them; a renamed field or topic fails here before it strands the events already stored."""

from __future__ import annotations

import dataclasses

from eventsourcing.utils import get_topic

from write_side.domain.customer import Customer

_BASE = ("originator_id", "originator_version", "timestamp", "tenant_id", "actor")
STORED = {
    "Created": (*_BASE[:3], "originator_topic", *_BASE[3:], "customer_type", "profile"),
    "ProfileChanged": (*_BASE, "changes"),
    "TypeChanged": (*_BASE, "previous", "to"),
    "Deleted": (*_BASE, "reason"),
    "Restored": (*_BASE, "reason"),
    "Erased": (*_BASE, "reason"),
    "ConsentChanged": (*_BASE, "purpose", "consent"),
    "VisitRecorded": (*_BASE, "order_id", "placed_at", "first_time", "snapshot"),
    "OrderClosed": (*_BASE, "order_id", "status"),
    "PaymentRecorded": (*_BASE, "payment"),
    "BillingDetailsSet": (*_BASE, "billing"),
    "InvoiceIssued": (*_BASE, "invoice"),
    "TierChanged": (*_BASE, "previous", "tier", "min_points", "lifetime_points"),
    "PreferencesChanged": (*_BASE, "preferences"),
    "NoteAdded": (*_BASE, "note_id", "text"),
    "NoteDeleted": (*_BASE, "note_id"),
    "CommunicationRecorded": (
        *_BASE,
        *("communication_id", "source", "channel", "direction", "purpose", "subject"),
        *("template", "status", "bounce_type", "at", "other_address"),
    ),
    "Merged": (*_BASE, "source_id", "target_id", "previous_state"),
    "MergeAbsorbed": (
        *_BASE,
        *("customer_id", "target_id", "values", "billing", "orders", "snapshots", "payments"),
        *("invoices", "invoice_billing", "consents", "consent_sources", "notes", "note_texts"),
        *("communications", "claims", "tier"),  # `tier` came later: old events read None
    ),
    "Unmerged": (*_BASE, "source_id", "target_id", "state", "orders", "payments"),
    "MergeUndone": (*_BASE, "source_id", "target_id"),
}


def test_every_customer_event_keeps_its_topic_and_fields() -> None:
    found = {
        name: value
        for name, value in vars(Customer).items()
        if isinstance(value, type) and issubclass(value, Customer.Event) and name != "Event"
    }
    assert set(found) == set(STORED)
    for name, cls in found.items():
        assert get_topic(cls) == f"write_side.domain.customer:Customer.{name}"
        assert tuple(field.name for field in dataclasses.fields(cls)) == STORED[name], name
