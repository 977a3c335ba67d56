"""Customers kept in memory between the batches of commands that change them.

A notification sender reports a thousand statuses a second, mostly about customers it wrote to
moments before. Replaying a customer's whole stream for each batch was the consumer's cost: one
`select_events` round trip per customer and the fold of every event again (10,000 events of a
busy customer took 1.7 s). This cache keeps the aggregates a batch stored; the next batch takes
its customers back and brings them up to date with the events stored after their version (by
any process, any command), all its customers in one query, so it decides on current state and
the save's optimistic concurrency still refuses a decision on state that moved meanwhile.

Ownership, not copies: `take` removes a customer from the cache and `keep` puts it back only
once its decision was stored, so a decision that failed or conflicted (the aggregate mutated
but not saved) is never seen again; the next batch reads that customer from the store.
Personal values are held in memory only, as by any read; an erasure `forget`s the customer
(and another process's erasure is folded in, forgetting them, before any decision).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.persistence import StoredEvent

from write_side.application.ports import EventStore
from write_side.domain.customer import Customer

DEFAULT_SIZE = 4096


class EventsAfter(Protocol):
    """What the PostgreSQL recorder answers in one query (others: `select_events` each)."""

    def select_events_after(self, wanted: Sequence[tuple[UUID, int]]) -> list[StoredEvent]: ...


class CustomerCache:
    """Least recently stored customers, up to `size`, taken out while a command decides."""

    def __init__(self, app: EventStore, *, size: int = DEFAULT_SIZE) -> None:
        self._app = app
        self._size = size
        self._kept: OrderedDict[UUID, Customer] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def take(self, customer_ids: Sequence[UUID]) -> dict[UUID, Customer]:
        """The current state of these customers (missing ids, and aggregates that are not
        customers, are left out); they leave the cache until `keep`."""
        with self._lock:
            cached = {cid: self._kept.pop(cid) for cid in customer_ids if cid in self._kept}
        self.hits += len(cached)
        self.misses += len(set(customer_ids)) - len(cached)
        wanted = [(cid, cached[cid].version if cid in cached else 0) for cid in customer_ids]
        with self._app.keys.batch(customer_ids):
            events = [self._app.mapper.to_domain_event(s) for s in self._stored_after(wanted)]
        found: dict[UUID, Aggregate | None] = dict(cached)
        for event in events:
            if not isinstance(event, CanMutateAggregate):  # not an aggregate's: not a customer
                found[event.originator_id] = None
                continue
            found[event.originator_id] = event.mutate(found.get(event.originator_id))
        return {cid: c for cid, c in found.items() if isinstance(c, Customer)}

    def keep(self, customers: Iterable[Customer]) -> None:
        """Customers whose decisions were stored (no pending events): current as of now."""
        with self._lock:
            for customer in customers:
                if customer.pending_events:
                    continue
                self._kept[customer.id] = customer
                self._kept.move_to_end(customer.id)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)

    def forget(self, customer_id: UUID) -> None:
        """Drop a customer (its erasure: nothing personal stays in memory)."""
        with self._lock:
            self._kept.pop(customer_id, None)

    def _stored_after(self, wanted: list[tuple[UUID, int]]) -> list[StoredEvent]:
        recorder = self._app.recorder
        if hasattr(recorder, "select_events_after"):
            batched: EventsAfter = recorder
            return batched.select_events_after(wanted)
        return [e for cid, after in wanted for e in recorder.select_events(cid, gt=after)]
