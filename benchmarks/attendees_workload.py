"""The attendees benchmark's workload: orders of known identities, and what came back."""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aio_pika.abc import AbstractIncomingMessage

SECRET = "benchmark-secret-with-32-bytes-or-more!!"
ORDERS_EXCHANGE = "orders.events"
EVENTS_EXCHANGE = "customers.events"
PROCESSED = "customer.attendees_processed"
ORDERS_QUEUE = "customers.orders"
INBOUND_QUEUES = (ORDERS_QUEUE, "customers.payments")
SHARED_QUEUES = (*INBOUND_QUEUES, "customers.orders.dlq", "customers.payments.dlq")
SHARED_EXCHANGES = (ORDERS_EXCHANGE, "payments.events", EVENTS_EXCHANGE)
REDIS_DB = 12
DRAIN_SECONDS = 20.0
TARGET = 500.0


# ------------------------------------------------------------------------------ workload
@dataclass(frozen=True)
class Identity:
    """A person who attends orders; new ones get a unique email and/or phone."""

    first_name: str
    last_name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class Order:
    """One `order.placed` body and what processing it should find."""

    order_id: str
    body: bytes
    attendees: int
    new: tuple[Identity, ...]
    by_email: int
    by_phone: int


class Workload:
    """Orders of 1-5 attendees; each attendee returns with probability `returning` when an
    earlier, already processed attendee exists (by email or by phone), else is new."""

    def __init__(self, run: str, tenant: str, *, seed: int, returning: float = 0.5) -> None:
        self._random = random.Random(seed)
        self._run = run
        self._tenant = tenant
        self._returning = returning
        self._known: list[Identity] = []
        self._people = 0
        self._orders = 0

    def processed(self, order: Order) -> None:
        """The order's new attendees are customers now: later orders may bring them back."""
        self._known.extend(order.new)

    def next_order(self) -> Order:
        """The next order (its new attendees are not known until `processed`)."""
        self._orders += 1
        order_id = f"bench-{self._run}-{self._orders}"
        attendees: list[dict[str, str]] = []
        new: list[Identity] = []
        by_email = by_phone = 0
        for _ in range(self._random.randint(1, 5)):
            if self._known and self._random.random() < self._returning:
                person = self._random.choice(self._known)
                use_email = person.email is not None and (
                    person.phone is None or self._random.random() < 0.5
                )
                attendee = {"firstName": person.first_name, "lastName": person.last_name}
                if use_email:
                    attendee["email"] = str(person.email)
                    by_email += 1
                else:
                    attendee["phone"] = str(person.phone)
                    by_phone += 1
            else:
                person = self._new_person()
                new.append(person)
                attendee = {"firstName": person.first_name, "lastName": person.last_name}
                if person.email:
                    attendee["email"] = person.email
                if person.phone:
                    attendee["phone"] = person.phone
                    attendee["phoneRegion"] = "US"
            attendees.append(attendee)
        body = {
            "orderId": order_id,
            "tenantId": self._tenant,
            "placedAt": datetime.now(UTC).isoformat(),
            "attendees": attendees,
        }
        return Order(
            order_id, json.dumps(body).encode(), len(attendees), tuple(new), by_email, by_phone
        )

    def _new_person(self) -> Identity:
        """80 % email and phone, 10 % email only, 10 % phone only; all unique in the run."""
        self._people += 1
        number = self._people
        kind = self._random.random()
        email = f"att{number}.{self._run}@example.com" if kind < 0.9 else None
        phone = f"+1415{200 + number // 10_000:03d}{number % 10_000:04d}" if kind >= 0.1 else None
        return Identity(f"Ann{number}", f"Bench{self._run}", email, phone)


# ------------------------------------------------------------------------------- results
@dataclass
class Phase:
    """What was published and received in one phase (warm-up or measurement)."""

    published: dict[str, float] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    attendees: int = 0
    created: int = 0
    by_email: int = 0
    by_phone: int = 0
    first_time: int = 0
    started: float = 0.0
    last_received: float = 0.0
    done: set[str] = field(default_factory=set)

    def percentile(self, fraction: float) -> float:
        """Latency percentile in milliseconds."""
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    @property
    def elapsed(self) -> float:
        """First publish to last receipt, seconds."""
        return max(0.0, self.last_received - self.started)

    @property
    def missing(self) -> int:
        """Published orders whose `customer.attendees_processed` never arrived."""
        return len(self.published) - len(self.done)

    def expected(self) -> tuple[int, int, int]:
        """(new, by email, by phone) over the orders that were processed."""
        done = [self.orders[o] for o in self.done]
        return (
            sum(len(o.new) for o in done),
            sum(o.by_email for o in done),
            sum(o.by_phone for o in done),
        )


class Receiver:
    """Matches `customer.attendees_processed` messages to published orders by order id."""

    def __init__(self, workload: Workload) -> None:
        self.workload = workload
        self.phase = Phase()
        self.slots: asyncio.Semaphore | None = None
        self.all_done = asyncio.Event()
        self.foreign = 0
        self.duplicates = 0

    def start(self, phase: Phase, inflight: int | None) -> None:
        """Route receipts to `phase`; with `inflight`, publishing waits for free slots."""
        self.phase = phase
        self.slots = asyncio.Semaphore(inflight) if inflight else None
        self.all_done = asyncio.Event()

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        """One `customer.attendees_processed` from the service's broker relay."""
        received = time.perf_counter()
        try:
            data = json.loads(message.body)["data"]
            order_id = str(data.get("orderId") or data["order_id"])  # v2, else v1
            results: list[dict[str, Any]] = list(data["results"])
        except (ValueError, KeyError, TypeError):
            self.foreign += 1
            return
        phase = self.phase
        sent = phase.published.get(order_id)
        if sent is None:
            self.foreign += 1  # another phase, another run, or another producer
            return
        if order_id in phase.done:
            self.duplicates += 1  # the relay delivers at least once
            return
        phase.done.add(order_id)
        phase.latencies.append(received - sent)
        phase.last_received = received
        phase.attendees += len(results)
        phase.created += sum(1 for r in results if r.get("created"))
        phase.by_email += sum(1 for r in results if r.get("matchedBy") == "email")
        phase.by_phone += sum(1 for r in results if r.get("matchedBy") == "phone")
        phase.first_time += sum(1 for r in results if r.get("firstTime"))
        self.workload.processed(phase.orders[order_id])
        if self.slots is not None:
            self.slots.release()
        if len(phase.done) == len(phase.published):
            self.all_done.set()


@dataclass(frozen=True)
class Options:
    """The command line, typed."""

    services: bool
    redis_db: int
    orders: int
    warmup: int
    rate: float
    inflight: int
    max_seconds: float
    seed: int
    py_spy: Path | None
    py_spy_seconds: float
    py_spy_idle: bool
    py_spy_gil: bool
    workers: int = 1
