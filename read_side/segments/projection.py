"""Segment membership as a projection (`segment_membership`), found and rebuilt like every
other one (`projectors.discovery`): blue/green generations, backfill from the start of the log
when new or of a new version, `customers projections rebuild segment_membership`.

Its documents are the customers' read-model documents, folded by the same `evolve` as the
view store (`keys` and `apply` below, the interface of `read_side.projections.api`). What the
generic document store cannot answer — members of a segment in `GET /customers` order, an
exact count in one read, a full evaluation when a segment is defined, the sweep for the
passing of time, and the outbox of `segment.member_added` / `segment.member_removed` — is the
work of its own store (`open_store`: `read_side.segments.store.MembershipStore` on SQLite,
`read_side.segments.pg_store.PgMembershipStore` on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from read_side.events import EventEnvelope
from read_side.projections.api import Documents
from read_side.views import evolve_in_place
from shared.events import payloads as ev
from shared.events.catalog import CUSTOMER_EVENTS
from shared.events.catalog import SEGMENT_EVENTS as DEFINITION_EVENTS

if TYPE_CHECKING:
    from read_side.segments.port import SegmentStore
    from shared.settings import Settings

MEMBERSHIP = "segment_membership"
CUSTOMER_PREFIX = "customer:"
SEGMENT_EVENTS = frozenset(event.name for event in DEFINITION_EVENTS)
REMOVED = next(event.name for event in DEFINITION_EVENTS if event.payload is ev.SegmentRemoved)


class SegmentMembershipProjection:
    """Which customers belong to which segment, following every customer change."""

    name = MEMBERSHIP
    version = 1
    description = "segment members and counts: every customer change, segment and hourly sweep"
    #: every Customer event (a merge, once declared, is one of them) and segment definitions;
    #: loyalty ledger entries are not needed: the tier is the customer's `tier_changed`
    events = frozenset(event.name for event in CUSTOMER_EVENTS) | SEGMENT_EVENTS

    def keys(self, event: EventEnvelope) -> Iterable[str]:
        """The customer's document (a segment definition changes none: its store evaluates
        the definition over every customer of the tenant)."""
        if event.type in SEGMENT_EVENTS:
            return ()
        return (CUSTOMER_PREFIX + event.customer_id,)

    def apply(self, event: EventEnvelope, docs: Documents) -> None:
        """Fold the event into the customer's document, as the view store does."""
        for key, doc in list(docs.items()):
            docs[key] = evolve_in_place(doc or None, event) or {}

    def open_store(
        self, settings: Settings, generation: int, clock: Callable[[], datetime]
    ) -> SegmentStore:
        """Its own store (see the module docstring): in the event store's PostgreSQL schema
        when the event store is PostgreSQL (any host may hold this projection's lease and
        serve its reads), else a SQLite file beside the read models."""
        if settings.shared_event_store:
            from read_side.segments.pg_store import PgMembershipStore

            assert settings.event_store_url is not None
            url = settings.event_store_url
            return PgMembershipStore(url, self, generation=generation, clock=clock)
        from read_side.segments.store import MembershipStore

        path = settings.data_dir / "segments.db"
        return MembershipStore(path, self, generation=generation, clock=clock)
