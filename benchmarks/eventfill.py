"""Fill an event store fast, read a bounded prefix of its log, and time each stage of reading.

`fill` appends Customer events straight through the eventsourcing application (no HTTP, no
claims), about `per_save` events per `save`. A third of each save registers new customers;
the rest updates customers created earlier (within the last `window` customers), so a
customer's events are spread over many projector batches, as in a live log.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from benchmarks import people
from projectors.envelopes import (
    EventLog,
    LogBatch,
    is_customer_event,
    keyed_customers,
    to_envelope,
)
from read_side.views import CustomerDoc, evolve_in_place
from shared.errors import ValidationFailed
from shared.settings import Settings
from write_side.adapters.event_store import CustomersApplication, open_event_store
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType

TENANTS = 10


@dataclass(frozen=True)
class Filled:
    """What `fill` wrote."""

    events: int
    customers: int
    seconds: float


def fill(
    app: CustomersApplication,
    events: int,
    rng: random.Random,
    *,
    per_save: int = 1000,
    window: int = 20_000,
) -> Filled:
    """Append at least `events` Customer events (see the module docstring)."""
    customers: list[Customer] = []
    written = number = 0
    started = time.perf_counter()
    while written < events:
        batch: dict[UUID, Customer] = {}
        created: list[Customer] = []
        for _ in range(max(1, per_save // 3)):
            kind = people.customer_type(rng)
            customer = Customer.register(
                tenant_id=f"tenant{number % TENANTS}",
                actor="bench",
                customer_type=CustomerType(kind),
                profile=people.profile(rng, number, kind),
            )
            number += 1
            batch[customer.id] = customer
            created.append(customer)
        for _ in range(per_save - len(created) if customers else 0):
            customer = customers[rng.randrange(max(0, len(customers) - window), len(customers))]
            if customer.state == "active" and _change(customer, rng, number):
                batch[customer.id] = customer
            number += 1
        written += len(app.save(*batch.values()))
        customers.extend(created)
    return Filled(written, len(customers), time.perf_counter() - started)


def _change(customer: Customer, rng: random.Random, number: int) -> bool:
    """One update, type change or (3%) delete; False when the change is refused."""
    pick = rng.random()
    try:
        if pick < 0.03:
            customer.delete(actor="bench", reason="benchmark")
        elif pick < 0.1:
            target = CustomerType.REGULAR if customer.email else CustomerType.NEW
            customer.update(actor="bench", changes={}, customer_type=target)
        else:
            changes = people.change(rng, number, customer.profile)
            customer.update(actor="bench", changes=changes, customer_type=None)
    except ValidationFailed:
        return False
    return True


class BoundedLog(EventLog):
    """The log up to position `stop` (inclusive; None: the whole log)."""

    def __init__(self, app: CustomersApplication, stop: int | None = None) -> None:
        super().__init__(app)
        self.stop = stop

    def head(self) -> int:
        """The newest position within the bound."""
        head = super().head()
        return head if self.stop is None else min(head, self.stop)

    def read(self, after: int, limit: int, *, partition: tuple[int, int] | None = None) -> LogBatch:
        """Like `EventLog.read`, never past `stop`."""
        if self.stop is not None:
            limit = min(limit, self.stop - after)
            if limit <= 0:
                return LogBatch([], after, 0)
        return super().read(after, limit, partition=partition)


def open_bounded_log(settings: Settings, stop: int | None) -> BoundedLog:
    """A `BoundedLog` on its own connection (picklable as a `functools.partial`)."""
    return BoundedLog(open_event_store(settings), stop)


@dataclass
class Breakdown:
    """CPU seconds of the reading thread per stage while reading (and evolving, in memory) a
    prefix of the log. CPU time, not wall time: other work on the machine does not inflate it
    (the read is single-threaded, so it is also the wall time on an idle machine)."""

    events: int = 0
    fetch: float = 0.0  # recorder.select_notifications (SQL, rows to StoredEvent)
    decode: float = 0.0  # keys prefetched per batch + mapper.to_domain_event (JSON, AES-GCM)
    envelope: float = 0.0  # to_envelope (event ids by uuid5, names, data dicts)
    evolve: float = 0.0  # read_side.views.evolve into a dict of documents
    docs: dict[tuple[str, str], CustomerDoc] = field(default_factory=dict)

    @property
    def read_seconds(self) -> float:
        """What `EventLog.read` costs: fetch + decode + envelope."""
        return self.fetch + self.decode + self.envelope

    def rates(self) -> list[tuple[str, float, float]]:
        """(stage, seconds, events/s) rows."""
        stages: list[tuple[str, float]] = [
            ("fetch rows (select_notifications)", self.fetch),
            ("decode + decrypt (mapper)", self.decode),
            ("to_envelope", self.envelope),
            ("= EventLog.read total", self.read_seconds),
            ("evolve (in place, as a staged rebuild)", self.evolve),
            ("= read + evolve, no sink", self.read_seconds + self.evolve),
        ]
        return [(name, s, self.events / s if s else 0.0) for name, s in stages]


def read_breakdown(app: CustomersApplication, stop: int | None, batch: int = 2000) -> Breakdown:
    """Read the log like `EventLog.read` (to `stop`), timing each stage, and evolve the
    documents in memory (they are the final read model: the input of the raw-write and
    insert-once figures)."""
    result = Breakdown()
    recorder, mapper = app.recorder, app.mapper
    position = 0
    while True:
        limit = batch if stop is None else min(batch, stop - position)
        if limit <= 0:
            break
        t0 = time.thread_time()
        notes = recorder.select_notifications(start=position, limit=limit, inclusive_of_start=False)
        t1 = time.thread_time()
        if not notes:
            break
        app.keys.prefetch(keyed_customers(notes))
        decoded: list[tuple[Any, str, int]] = [
            (mapper.to_domain_event(n), n.topic, n.id) for n in notes if is_customer_event(n.topic)
        ]
        t2 = time.thread_time()
        envelopes = [to_envelope(event, topic, pos) for event, topic, pos in decoded]
        t3 = time.thread_time()
        docs = result.docs
        for envelope in envelopes:
            key = (envelope.tenant_id, envelope.customer_id)
            doc = evolve_in_place(docs.get(key), envelope)
            if doc is not None:
                docs[key] = doc
        t4 = time.thread_time()
        result.fetch += t1 - t0
        result.decode += t2 - t1
        result.envelope += t3 - t2
        result.evolve += t4 - t3
        result.events += len(envelopes)
        position = notes[-1].id
    return result
