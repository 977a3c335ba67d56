"""The membership store's contract, on both adapters: SQLite (the embedded profile) and
PostgreSQL (whenever the event store is PostgreSQL). Counts, keyset pages, the export, the
generic documents and the outbox; the generation's life (activate, version, checkpoint
forward only, drop); a second instance — another host's process — reading what the first
projected and noticing definitions another process changed; the lease fence (PostgreSQL:
under a lease, a batch of a superseded epoch rolls back whole); and an erasure's batch
leaving no personal value in the store's bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from read_side.segments.pg_store import PgMembershipStore
from read_side.segments.pg_tables import schema_of
from read_side.segments.port import SegmentStore
from read_side.segments.projection import SegmentMembershipProjection
from read_side.segments.store import MembershipStore
from shared.adapters.pg_notify import conninfo_for
from shared.fencing import Fence, Fenced, fenced
from shared.segment_filter import parse_filter
from tests.unit.test_segment_membership_property import START, TENANT, World

Opener = Callable[[], SegmentStore]


@pytest.fixture(params=["sqlite", "postgres"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Opener:
    """A new instance of the same generation 1 at each call (another process's view)."""
    projection = SegmentMembershipProjection()
    clock: Callable[[], datetime] = lambda: START  # noqa: E731
    if kind == "sqlite":
        return lambda: MembershipStore(tmp_path / "segments.db", projection, clock=clock)
    url = request.getfixturevalue("postgres_schema_url")
    return lambda: PgMembershipStore(url, projection, clock=clock)


@pytest.fixture
async def store(open_store: Opener) -> AsyncIterator[SegmentStore]:
    opened = open_store()
    await opened.activate()
    yield opened
    await opened.close()


async def _world(store: SegmentStore) -> tuple[World, str]:
    """Three customers and one segment everyone is in."""
    world = World(store)
    await store.apply(world.envelopes([e for c in world.customers for e in c.collect_events()]),
                      world.position)  # fmt: skip
    await store.apply([world.segment_event("defined", "s-all", {})], world.position)
    return world, "s-all"


async def test_counts_pages_export_documents_and_outbox(store: SegmentStore) -> None:
    world, segment = await _world(store)
    assert await store.count(TENANT, segment) == 3
    assert await store.matching(TENANT, parse_filter({"q": "ann"}), START) == 1  # a preview
    first = await store.page(TENANT, segment, None, 2)
    rest = await store.page(TENANT, segment, first.next_after, 2)
    assert rest.next_after is None
    paged = [str(d["id"]) for d in first.docs + rest.docs]
    assert paged == [str(d["id"]) for d in await store.everyone(TENANT, segment)]
    newest_first = sorted(world.views.values(), key=lambda d: (d["createdAt"], d["id"]))[::-1]
    assert paged == [str(d["id"]) for d in newest_first]
    assert [(d.key, d.doc) for d in await store.find(TENANT)] == [("segment:s-all", {"count": 3})]
    assert (await store.get(TENANT, "segment:s-all")) is not None
    assert await store.get(TENANT, "segment:nope") is None
    pending = await store.pending(10)
    assert [m.kind for m in pending] == ["segment.member_added"] * 3
    await store.acknowledge(pending[1].seq)
    assert [m.seq for m in await store.pending(10)] == [pending[2].seq]


async def test_generation_life(store: SegmentStore, open_store: Opener) -> None:
    await _world(store)
    assert await store.active_generation() == 1
    assert await store.active_version() == SegmentMembershipProjection.version
    position = await store.checkpoint()
    await store.apply([], position - 1)  # forward only
    assert await store.checkpoint() == position
    assert await store.generations() == {1}
    await store.drop()
    assert await store.checkpoint() == 0
    assert await store.count(TENANT, "s-all") == 0  # tables recreated empty on next use


async def test_another_process_reads_and_sees_new_definitions(
    store: SegmentStore, open_store: Opener
) -> None:
    world, segment = await _world(store)
    other = open_store()
    try:
        assert await other.count(TENANT, segment) == 3
        assert await other.checkpoint() == world.position
        await other.apply([world.segment_event("defined", "s-ann", {"q": "ann"})], world.position)
        ann = world.customers[0]  # the first instance's cached definitions are stale now
        ann.update(actor="a", changes={"tags": ["x"]}, customer_type=None)
        await store.apply(world.envelopes(list(ann.collect_events())), world.position)
        assert await other.count(TENANT, "s-ann") == 1
        ann.erase(actor="a", reason=None)  # state erased: leaves both segments
        await store.apply(world.envelopes(list(ann.collect_events())), world.position)
        assert (await other.count(TENANT, "s-ann"), await other.count(TENANT, segment)) == (0, 2)
    finally:
        await other.close()


async def test_a_superseded_epoch_writes_nothing(postgres_schema_url: str) -> None:
    """PostgreSQL only: the embedded store runs under the data dir's file lock, no lease."""
    store = PgMembershipStore(
        postgres_schema_url, SegmentMembershipProjection(), clock=lambda: START
    )
    await store.activate()
    try:
        await _fenced_batches(store)
    finally:
        await store.close()


async def _fenced_batches(store: SegmentStore) -> None:
    world, segment = await _world(store)
    position = await store.checkpoint()
    with fenced(Fence("segment_membership", 5)):
        await store.apply([], position)  # the claim of the lease's epoch 5
    late = world.envelopes(list(_new_tag(world)))
    with fenced(Fence("segment_membership", 4)), pytest.raises(Fenced):
        await store.apply([*late, world.segment_event("defined", "s-vip", {"tag": ["vip"]})],
                          world.position)  # fmt: skip
    assert await store.checkpoint() == position
    assert await store.count(TENANT, "s-vip") == 0
    assert len(await store.pending(10)) == 3  # only the first three announcements
    with fenced(Fence("segment_membership", 6)):
        await store.apply(late, world.position)
    assert await store.checkpoint() == world.position
    assert await store.count(TENANT, segment) == 3


def _new_tag(world: World) -> list[object]:
    customer = world.customers[1]
    customer.update(actor="a", changes={"tags": ["vip"]}, customer_type=None)
    return list(customer.collect_events())


async def test_an_erased_customer_leaves_no_value(
    store: SegmentStore, kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    world, _ = await _world(store)
    cy = world.customers[2]
    await store.apply([world.segment_event("defined", "s-cy", {"q": "cy"})], world.position)
    assert "cy@x.org" in _bytes(store, kind, tmp_path, request)
    cy.erase(actor="a", reason=None)
    await store.apply(world.envelopes(list(cy.collect_events())), world.position)
    assert await store.count(TENANT, "s-cy") == 0
    assert "cy@x.org" not in _bytes(store, kind, tmp_path, request).lower()


def _bytes(store: SegmentStore, kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Every byte of the SQLite files, or every live row of the schema's tables."""
    if kind == "sqlite":
        return "".join(p.read_bytes().decode("latin-1") for p in tmp_path.rglob("segments.db*"))
    url = request.getfixturevalue("postgres_schema_url")
    schema, parts = schema_of(url), []
    with psycopg.connect(conninfo_for(url)) as db:
        for (table,) in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall():
            for form in ("", " (FORMAT binary)"):  # binary: BYTEA as stored, not hex
                statement = sql.SQL("COPY {} TO STDOUT" + form).format(
                    sql.Identifier(schema, table)
                )
                with db.cursor().copy(statement) as copy:
                    parts += [bytes(chunk).decode("latin-1") for chunk in copy]
    assert isinstance(store, SegmentStore)
    return "\n".join(parts)
