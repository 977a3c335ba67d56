"""Benchmark: segment membership as a projection (issue 13.2), embedded SQLite store or,
with `--postgres URL`, the PostgreSQL store (in a schema of its own, dropped at the end).

    python -m benchmarks.segments [--customers 100000] [--segments 20] [--changes 2000]
                                  [--counts 5000] [--postgres postgresql://...]

`--customers` synthetic customers of one tenant (created with a profile, then a visit, a
payment and a consent for some; about 2.4 events each) are folded through the membership
store's `apply` (the path the runner and a backfill take) with `--segments - 1` segments
defined first. Then:
- a new segment: the time its `segment.defined` event takes to complete its membership over
  every customer (one `apply`), and the preview of its filter (`POST /segments/preview`:
  the same evaluation over every customer, nothing written);
- customer changes (profile, tags, visits, payments, consents), each re-evaluated against
  every segment: projector time per change, applied one event per batch (a quiet live
  projector) and 100 per batch (a busy one);
- `count`: p50/p99 of the read `GET /segments/{id}` makes (checkpoint for the token, then
  the count), against the same-run baseline of evaluating the filter over every customer
  document at read time (what the service did before the projection);
- the sweep after a one-day jump of the clock.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.figures import machine
from read_side.events import EventEnvelope
from read_side.segments.membership import matches
from read_side.segments.pg_store import PgMembershipStore
from read_side.segments.port import SegmentStore
from read_side.segments.projection import SegmentMembershipProjection
from read_side.segments.store import MembershipStore
from shared.segment_filter import parse_filter

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
TENANT = "acme"
BATCH = 2000
FILTERS: list[dict[str, object]] = [
    {"tag": ["vip"]}, {"tag": ["kiwi"], "type": "regular"}, {"lastVisitWithinDays": 30},
    {"lastVisitWithinDays": 90, "visitCountMin": 1}, {"noVisitWithinDays": 60},
    {"visitCountMin": 2}, {"totalSpentMin": {"amount": 5000, "currency": "USD"}},
    {"totalSpentMin": {"amount": 100, "currency": "EUR"}}, {"consent": "marketing_email"},
    {"hasPhone": True}, {"hasEmail": True, "hasPhone": False}, {"q": "ann"},
    {"contactableFor": "marketing_email"}, {"attr": ["plan:gold"]}, {"type": "new"},
    {"createdFrom": "2026-06-01T00:00:00Z"}, {"state": "deleted"},
    {"tag": ["vip"], "lastVisitWithinDays": 60}, {"q": "bo", "hasEmail": True},
    {"consent": "marketing_sms", "visitCountMin": 1},
]  # fmt: skip


class Clock:
    """Wall and CPU time (this process, every thread: the store's worker included) of a step:
    on a loaded machine the CPU time is the projector's own cost, the wall time what it waited."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def spent(self) -> tuple[float, float]:
        """Seconds since creation: (wall, CPU)."""
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


class Log:
    """Synthetic envelopes in log order."""

    def __init__(self, seed: int = 11) -> None:
        self.rng = random.Random(seed)
        self.position = 0
        self.versions: dict[str, int] = {}

    def event(self, kind: str, customer: str, data: dict[str, object]) -> EventEnvelope:
        self.position += 1
        version = self.versions.get(customer, 0) + 1
        self.versions[customer] = version
        at = NOW - timedelta(days=self.rng.randrange(300))
        return EventEnvelope(self.position, str(uuid.uuid4()), kind, customer, version, at,
                             TENANT, data=data)  # fmt: skip

    def segment(self, spec: dict[str, object]) -> EventEnvelope:
        self.position += 1
        return EventEnvelope(self.position, str(uuid.uuid4()), "segment.defined",
                             str(uuid.uuid4()), 1, NOW, TENANT,
                             data={"name": "s", "description": None, "filter": spec})  # fmt: skip

    def customer(self, index: int) -> list[EventEnvelope]:
        rng, cid = self.rng, str(uuid.UUID(int=index + 1))
        name = rng.choice(["Ann", "Bo", "Cy", "Dee", "Eve", "Finn"])
        email = f"c{index}@example.com" if rng.random() < 0.9 else None
        phone = "+442079460055" if rng.random() < 0.4 else None
        tags = rng.sample(["vip", "kiwi", "late"], rng.randrange(3))
        profile = {"firstName": name, "lastName": f"L{index}", "email": email, "phone": phone,
                   "dateOfBirth": None, "notes": None, "tags": tags, "externalId": None,
                   "attributes": {"plan": rng.choice(["gold", "free"])}}  # fmt: skip
        kind = rng.choice(["new", "regular"])
        events = [self.event("customer.created", cid, {"customer_type": kind, "profile": profile})]
        if rng.random() < 0.7:
            events.append(self.visit(cid))
        if rng.random() < 0.4:
            events.append(self.payment(cid))
        if rng.random() < 0.3:
            events.append(self.consent(cid))
        return events

    def visit(self, cid: str) -> EventEnvelope:
        placed = (NOW - timedelta(days=self.rng.randrange(180))).isoformat()
        snapshot = dict.fromkeys(("firstName", "lastName", "email", "phone"))
        data = {"order_id": f"o{self.position}", "placed_at": placed, "first_time": False,
                "snapshot": snapshot}  # fmt: skip
        return self.event("customer.visit_recorded", cid, data)

    def payment(self, cid: str) -> EventEnvelope:
        payment = {"paymentId": f"p{self.position}", "orderId": None, "method": None,
                   "amount": self.rng.randrange(100, 10_000), "status": "succeeded",
                   "currency": self.rng.choice(["USD", "EUR"]), "at": NOW.isoformat()}  # fmt: skip
        return self.event("customer.payment_recorded", cid, {"payment": payment})

    def consent(self, cid: str) -> EventEnvelope:
        purpose = self.rng.choice(["marketing_email", "marketing_sms"])
        consent = {"granted": self.rng.random() < 0.8, "source": "web", "legalBasis": "consent"}
        return self.event("customer.consent_changed", cid, {"purpose": purpose, "consent": consent})

    def change(self, customers: int) -> EventEnvelope:
        cid = str(uuid.UUID(int=self.rng.randrange(customers) + 1))
        pick = self.rng.randrange(4)
        if pick == 0:
            tags = self.rng.sample(["vip", "kiwi", "late"], self.rng.randrange(3))
            return self.event("customer.profile_changed", cid, {"changes": {"tags": tags}})
        return (self.visit, self.payment, self.consent)[pick - 1](cid)


async def run(
    customers: int, segments: int, changes: int, counts: int, store: SegmentStore
) -> None:
    log = Log()
    await store.activate()
    defined = [log.segment(spec) for spec in FILTERS[: segments - 1]]
    await store.apply(defined, log.position)
    started, events = Clock(), 0
    pending: list[EventEnvelope] = []
    for index in range(customers):
        pending += log.customer(index)
        if len(pending) >= BATCH or index == customers - 1:
            await store.apply(pending, log.position)
            events += len(pending)
            pending = []
    wall, cpu = started.spent()
    print(f"load: {customers:,} customers, {events:,} events, {segments - 1} segments: wall "
          f"{wall:.1f} s, CPU {cpu:.1f} s ({cpu / events * 1e6:.0f} µs CPU/event)")  # fmt: skip
    new = log.segment(FILTERS[(segments - 1) % len(FILTERS)])
    started = Clock()
    await store.apply([new], log.position)
    wall, cpu = started.spent()
    members = await store.count(TENANT, new.customer_id)
    print(f"new segment over {customers:,} customers ({members:,} members): wall {wall:.2f} s,"
          f" CPU {cpu:.2f} s")  # fmt: skip
    spec, reads = parse_filter(new.data["filter"]), 3
    started = Clock()
    previewed = [await store.matching(TENANT, spec, NOW) for _ in range(reads)]
    wall, cpu = (spent / reads * 1000 for spent in started.spent())
    assert previewed == [members] * reads, (previewed, members)  # a preview counts as defining
    print(f"preview of that filter (POST /segments/preview): wall {wall:.0f} ms, CPU {cpu:.0f} ms")
    for per_batch in (1, 100):
        batch = [log.change(customers) for _ in range(changes)]
        started = Clock()
        for start in range(0, len(batch), per_batch):
            await store.apply(batch[start : start + per_batch], batch[start].position)
        wall, cpu = (spent / len(batch) * 1000 for spent in started.spent())
        print(f"customer change, {segments} segments, {per_batch}/batch: wall {wall:.3f} ms, "
              f"CPU {cpu:.3f} ms each")  # fmt: skip
    ids = [event.customer_id for event in [*defined, new]]
    print(count_figures(await count_times(store, ids, counts), await baseline(store, new)))
    store.clock = lambda: NOW + timedelta(days=1)
    started = Clock()
    moved = await store.sweep()  # the first sweep of a generation evaluates every timed segment
    first = started.spent()[0]
    store.clock = lambda: NOW + timedelta(days=1, hours=1)
    started = Clock()
    hourly = await store.sweep()
    print(f"sweep: first {first:.2f} s ({moved:,} moved); an hour later "
          f"{started.spent()[0]:.3f} s ({hourly:,} moved)")  # fmt: skip
    await store.close()


async def count_times(store: SegmentStore, ids: list[str], reads: int) -> list[float]:
    rng, spent = random.Random(3), []
    for _ in range(reads):
        started = time.perf_counter()
        await store.checkpoint()  # the consistency token's wait: one read when reached
        await store.count(TENANT, rng.choice(ids))
        spent.append((time.perf_counter() - started) * 1000)
    return spent


async def baseline(store: SegmentStore, segment: EventEnvelope, reads: int = 3) -> float:
    """Milliseconds of one count evaluated on read over every document (the old way)."""
    spec = parse_filter(segment.data["filter"])
    spent = []
    for _ in range(reads):
        started = time.perf_counter()
        docs = await store._run(_all_docs, store)
        sum(1 for doc in docs if matches(spec, doc, NOW))
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent)


def _all_docs(store: SegmentStore) -> list[dict[str, object]]:
    import json

    with store._reading() as db:
        rows = db.execute(f"SELECT doc FROM {store.tables.docs}").fetchall()  # noqa: S608
    return [json.loads(text) for (text,) in rows]


def count_figures(spent: list[float], scan: float) -> str:
    spent.sort()
    p50, p99 = spent[len(spent) // 2], spent[int(len(spent) * 0.99)]
    return (f"count ({len(spent):,} reads): p50 {p50:.3f} ms, p99 {p99:.3f} ms; baseline "
            f"(evaluate on read) {scan:,.0f} ms: p99 is {scan / p99:,.0f}x faster")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--segments", type=int, default=20)
    parser.add_argument("--changes", type=int, default=2000)
    parser.add_argument("--counts", type=int, default=5000)
    parser.add_argument("--postgres", help="a PostgreSQL URL: measure the PostgreSQL store")
    args = parser.parse_args()
    print(machine())
    figures = (args.customers, args.segments, args.changes, args.counts)
    projection = SegmentMembershipProjection()
    if args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        url = f"{args.postgres}{'&' if '?' in args.postgres else '?'}schema={schema}"
        print(f"store: PostgreSQL (schema {schema})")
        try:
            asyncio.run(run(*figures, PgMembershipStore(url, projection, clock=lambda: NOW)))
        finally:
            _drop_schema(args.postgres, schema)
        return
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "segments.db"
        print("store: SQLite")
        asyncio.run(run(*figures, MembershipStore(path, projection, clock=lambda: NOW)))


def _drop_schema(url: str, schema: str) -> None:
    import psycopg

    from shared.adapters.pg_notify import conninfo_for

    with psycopg.connect(conninfo_for(url), autocommit=True) as db:
        db.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
