"""Segment membership as a projection equals the filter evaluated directly over the view.

Hypothesis drives random command sequences on a few customers (profile, tags, visits,
payments, consents, deletion, restore, erasure: the aggregate's own commands), segment
definitions and redefinitions, and jumps of the injected clock followed by the sweep, through
the membership store. After every step each segment's members, its count, and the sum of the
outbox's `member_added` / `member_removed` announcements all equal `matches(filter, view, now)`
over the documents `evolve` folds from the same events. Here on SQLite (the embedded
profile); `tests/integration/test_segment_membership_property_pg.py` runs the same on the
PostgreSQL adapter.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projectors.envelopes import to_envelope
from read_side.events import EventEnvelope
from read_side.segments.membership import matches
from read_side.segments.port import SegmentStore
from read_side.segments.projection import SegmentMembershipProjection
from read_side.segments.store import MembershipStore
from read_side.views import CustomerDoc, evolve
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed, VersionMismatch
from shared.json_types import JSONObject
from shared.segment_filter import parse_filter
from tests.unit.test_aggregate_and_view_agree import TOPIC, Command, commands
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType

TENANT = "acme"
START = datetime(2026, 3, 20, 9, tzinfo=UTC)
FILTERS: list[JSONObject] = [
    {"tag": ["vip"]},
    {"lastVisitWithinDays": 30},
    {"noVisitWithinDays": 45, "state": "active"},
    {"visitCountMin": 2},
    {"totalSpentMin": {"amount": 10_000, "currency": "USD"}},
    {"consent": "email", "hasPhone": True},
    {"q": "ann"},
    {"type": "regular", "lastVisitWithinDays": 60},
    {"state": "deleted"},
    {"contactableFor": "email"},
    {"attr": ["tier:gold"]},
]
filters = st.sampled_from(FILTERS)
steps = st.one_of(
    st.tuples(st.just("command"), st.integers(0, 2), commands),
    st.tuples(st.just("visit"), st.integers(0, 2), st.integers(0, 70)),
    st.tuples(st.just("jump"), st.integers(1, 40)),
    st.tuples(st.just("define"), filters),
    st.tuples(st.just("redefine"), st.integers(0, 3), filters),
)


class World:
    """The customers, the reference views and the store under test."""

    def __init__(self, store: SegmentStore) -> None:
        self.store = store
        self.now = START
        self.position = 0
        self.customers = [
            Customer.register(tenant_id=TENANT, actor="a", customer_type=CustomerType.NEW,
                              profile={"firstName": name, "email": f"{name.lower()}@x.org"})
            for name in ("Ann", "Bo", "Cy")
        ]  # fmt: skip
        self.views: dict[str, CustomerDoc] = {}
        self.segments: dict[str, JSONObject] = {}
        self.announced: dict[str, set[str]] = {}

    def envelopes(self, events: list[Any]) -> list[EventEnvelope]:
        out = []
        for event in events:
            self.position += 1
            object.__setattr__(event, "timestamp", self.now)
            envelope = to_envelope(event, TOPIC + type(event).__name__, self.position)
            self.views[envelope.customer_id] = evolve(self.views.get(envelope.customer_id),
                                                      envelope) or {}  # fmt: skip
            out.append(envelope)
        return out

    def segment_event(self, kind: str, segment_id: str, spec: JSONObject) -> EventEnvelope:
        self.position += 1
        self.segments[segment_id] = spec
        return EventEnvelope(self.position, str(uuid.uuid4()), f"segment.{kind}", segment_id,
                             1, self.now, TENANT if kind == "defined" else "",
                             data={"name": segment_id, "description": None, "filter": spec})  # fmt: skip

    async def step(self, step: tuple[Any, ...]) -> None:
        kind = step[0]
        if kind == "jump":
            self.now += timedelta(days=step[1])
            await self.store.sweep()
            return
        if kind in ("command", "visit"):
            customer = self.customers[step[1]]
            command: Command = step[2] if kind == "command" else _visit(self.now, step[2])
            with suppress(Conflict, VersionMismatch, ValidationFailed, NotFound, Forbidden):
                command(customer)
            batch = self.envelopes(list(customer.collect_events()))
        elif kind == "define" or not self.segments:
            batch = [self.segment_event("defined", str(uuid.uuid4()), step[-1])]
        else:
            known = sorted(self.segments)
            batch = [self.segment_event("redefined", known[step[1] % len(known)], step[2])]
        await self.store.apply(batch, self.position)

    async def check(self) -> None:
        await self.drain()
        for segment_id, raw in self.segments.items():
            spec = parse_filter(raw)
            expected = {cid for cid, doc in self.views.items() if matches(spec, doc, self.now)}
            page = await self.store.page(TENANT, segment_id, None, 100)
            assert {str(doc["id"]) for doc in page.docs} == expected, raw
            assert await self.store.count(TENANT, segment_id) == len(expected), raw
            assert self.announced.get(segment_id, set()) == expected, raw

    async def drain(self) -> None:
        pending = await self.store.pending(10_000)
        for item in pending:
            members = self.announced.setdefault(item.segment_id, set())
            if item.kind == "segment.member_added":
                assert item.customer_id not in members
                members.add(item.customer_id)
            else:
                members.remove(item.customer_id)
        if pending:
            await self.store.acknowledge(pending[-1].seq)


def _visit(now: datetime, days_ago: int) -> Command:
    placed = (now - timedelta(days=days_ago)).isoformat()
    order = f"v-{uuid.uuid4().hex[:8]}"
    return lambda c: c.record_visit(actor="ord", order_id=order, placed_at=placed)


Opener = Callable[[Callable[[], datetime]], SegmentStore]


@pytest.fixture
def open_store(tmp_path: Path) -> Opener:
    """A fresh store per call (a new file)."""
    return lambda clock: MembershipStore(
        Path(tempfile.mkdtemp(dir=tmp_path)) / "segments.db", SegmentMembershipProjection(),
        clock=clock,
    )  # fmt: skip


async def _scenario(open_store: Opener, sequence: list[tuple[Any, ...]]) -> None:
    world: World | None = None
    store = open_store(lambda: world_now())

    def world_now() -> datetime:
        assert world is not None
        return world.now

    world = World(store)
    try:
        await store.activate()  # the serving generation: it fills the outbox
        await store.apply(world.envelopes(
            [e for c in world.customers for e in c.collect_events()]), world.position)  # fmt: skip
        defined = [world.segment_event("defined", str(uuid.uuid4()), spec) for spec in FILTERS]
        await store.apply(defined, world.position)
        await world.check()
        for step in sequence:
            await world.step(step)
            await world.check()
    finally:
        await store.drop()
        await store.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.lists(steps, max_size=14))
def test_projected_membership_is_the_filter_over_the_view(
    open_store: Opener, sequence: list[tuple[Any, ...]]
) -> None:
    asyncio.run(_scenario(open_store, sequence))


def test_a_reapplied_batch_changes_nothing(open_store: Opener) -> None:
    """The checkpoint lags a crash: the same batch again moves no member and announces none."""

    async def run() -> None:
        world: World
        store = open_store(lambda: START)
        world = World(store)
        await store.activate()
        batch = world.envelopes([e for c in world.customers for e in c.collect_events()])
        batch.append(world.segment_event("defined", "s-1", {"q": "ann"}))
        await store.apply(batch, world.position)
        await world.check()
        await store.apply(batch, world.position)
        assert await store.pending(10) == []
        assert await store.count(TENANT, "s-1") == 1
        await store.close()

    asyncio.run(run())
