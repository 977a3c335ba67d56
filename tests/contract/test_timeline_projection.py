"""The timeline projection on every projection store (SQLite embedded, MongoDB-wire): pages
newest first by log position across the customer's stream and its loyalty ledger, filtered by
kind however rare the kind, cursor-paged without gaps or repeats, tenants apart, and a batch
re-applied after a crash changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from read_side.events import EventEnvelope
from read_side.projections.store import ProjectionStore
from read_side.timeline_pages import projected_page
from read_side.timeline_projection import BUCKET, TimelineProjection
from shared.errors import MalformedRequest
from tests.services import redis_client

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "mongo", "mongo+redis", "mongo+redis_cluster"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ProjectionStore]:
    mongo: Any = None
    client: Any = None
    opened: ProjectionStore
    if request.param == "sqlite":
        from read_side.projections.sqlite_store import SQLiteProjectionStore

        opened = SQLiteProjectionStore(tmp_path / "read.db", TimelineProjection())
    else:
        from pymongo import AsyncMongoClient

        from read_side.projections.mongo_store import MongoProjectionStore
        from read_side.projections.redis_mirror import RedisMirror

        database = request.getfixturevalue("unique_name")
        mongo = AsyncMongoClient(request.getfixturevalue("mongo_url"))
        mirror = None
        if request.param.startswith("mongo+"):  # reads come from the copy (written first)
            server = request.param.removeprefix("mongo+")
            client = redis_client(request.getfixturevalue(f"{server}_url"))
            mirror = RedisMirror(client, database, "timeline")
        opened = MongoProjectionStore(mongo, database, TimelineProjection(), mirror=mirror)
    yield opened
    await opened.close()
    if client is not None:  # every test wrote: the copy holds its documents
        assert [key async for key in client.scan_iter(match=f"{database}:*")]
    if mongo is not None:
        await opened.drop()  # the copy's keys too
        await mongo.drop_database(database)
        await mongo.close()
    if client is not None:
        assert not [key async for key in client.scan_iter(match=f"{database}:*")]
        await client.aclose()


def customer_event(
    position: int, version: int, kind: str, data: dict[str, Any], customer: str = "c1",
    tenant: str = "acme",
) -> EventEnvelope:  # fmt: skip
    return EventEnvelope(
        position=position, event_id=f"e{position}", type=kind, customer_id=customer,
        version=version, occurred_at=START + timedelta(seconds=position), tenant_id=tenant,
        actor="staff", data=data,
    )  # fmt: skip


def ledger_event(position: int, version: int, points: int) -> EventEnvelope:
    entry = {"id": f"x{version}", "kind": "earned", "points": points, "reason": "r",
             "ref": f"pay-{version}", "at": "2026-01-01T00:00:00.000Z", "shortfall": 0}  # fmt: skip
    data = {"customer_id": "c1", "entry": entry}
    return customer_event(position, version, "loyalty.points_earned", data)


def busy_stream(communications: int) -> list[EventEnvelope]:
    """Created, a note, then communications with a loyalty entry after every tenth."""
    events = [
        customer_event(1, 1, "customer.created", {}),
        customer_event(2, 2, "customer.note_added", {"note_id": "n1", "text": "x"}),
    ]
    position, version, ledger = 3, 3, 1
    for index in range(communications):
        data = {"communication_id": f"m{index}", "channel": "email", "purpose": "invoice",
                "status": "sent", "direction": "outbound"}  # fmt: skip
        events.append(customer_event(position, version, "customer.communication_recorded", data))
        position, version = position + 1, version + 1
        if index % 10 == 9:
            events.append(ledger_event(position, ledger, 5))
            position, ledger = position + 1, ledger + 1
    return events


async def every_page(
    store: ProjectionStore, kinds: list[str] | None, limit: int, tenant: str = "acme",
    sources: tuple[str, ...] = (),
) -> list[tuple[str, str | None]]:  # fmt: skip
    seen: list[tuple[str, str | None]] = []
    cursor = None
    while True:
        page = await projected_page(store, tenant, "c1", kinds, limit, cursor, sources)
        assert page is not None
        seen += [(item.type, item.ref) for item in page.items]
        if page.next_cursor is None:
            return seen
        assert len(page.items) == limit
        cursor = page.next_cursor


async def test_pages_go_newest_first_across_the_stream_and_the_ledger(
    store: ProjectionStore,
) -> None:
    events = busy_stream(3 * BUCKET)
    for start in range(0, len(events), 50):  # batches as the runner sends them
        await store.apply(
            events[start : start + 50], events[min(start + 50, len(events)) - 1].position
        )
    expected = [
        (e.type if not e.type.startswith("loyalty.") else "loyalty.earned", ref)
        for e in reversed(events)
        for ref in [_ref(e)]
    ]
    assert await every_page(store, None, 7) == expected
    loyalty = await every_page(store, ["loyalty"], 5)
    assert [ref for _, ref in loyalty] == [f"pay-{n}" for n in range(3 * BUCKET // 10, 0, -1)]
    assert await every_page(store, ["note"], 20) == [("customer.note_added", "n1")]
    assert await every_page(store, ["note", "lifecycle"], 1) == [
        ("customer.note_added", "n1"), ("customer.created", None),
    ]  # fmt: skip
    assert await every_page(store, ["merge"], 20) == []


async def test_a_batch_applied_again_changes_nothing_and_tenants_stay_apart(
    store: ProjectionStore,
) -> None:
    events = busy_stream(30)
    await store.apply(events, events[-1].position)
    await store.apply(events, events[-1].position)
    assert len(await every_page(store, None, 100)) == len(events)
    assert await projected_page(store, "globex", "c1", None, 20, None) is None


async def test_a_cursor_of_another_kind_is_refused(store: ProjectionStore) -> None:
    await store.apply(busy_stream(1), 3)
    with pytest.raises(MalformedRequest):
        await projected_page(store, "acme", "c1", None, 20, "djM")  # a stream cursor "v3"


async def test_a_targets_pages_hold_what_the_merged_sources_moved_by_position(
    store: ProjectionStore,
) -> None:
    """c2 was merged into c1: c1's pages show c2's order and communications among its own
    (by log position), not c2's creation or its merge; a kind filter applies to both."""
    own = [customer_event(e.position * 10, e.version, e.type, e.data) for e in busy_stream(12)]
    theirs = [
        customer_event(4, 1, "customer.created", {}, "c2"),
        customer_event(6, 2, "customer.visit_recorded", {"order_id": "o2"}, "c2"),
        customer_event(9, 3, "customer.communication_recorded",
                       {"communication_id": "s1", "channel": "sms"}, "c2"),
        customer_event(99, 4, "customer.merged", {"target_id": "c1"}, "c2"),
    ]  # fmt: skip
    merged = sorted([*own, *theirs[1:3]], key=lambda e: e.position, reverse=True)
    await store.apply(sorted([*own, *theirs], key=lambda e: e.position), 200)
    seen = await every_page(store, None, 4, sources=("c2",))
    assert [ref for _, ref in seen] == [_ref(e) for e in merged]
    kinds = ("customer.communication_recorded", "customer.created")
    texts = await every_page(store, ["communication", "lifecycle"], 3, sources=("c2",))
    expected = [e for e in merged if e.type in kinds]  # c1's creation, not c2's
    assert texts == [(e.type, _ref(e)) for e in expected]
    assert await every_page(store, ["loyalty"], 50, sources=("c2",)) == await every_page(
        store, ["loyalty"], 50
    )


def _ref(event: EventEnvelope) -> str | None:
    if event.type == "customer.visit_recorded":
        return str(event.data["order_id"])
    if event.type == "customer.note_added":
        return "n1"
    if event.type == "customer.communication_recorded":
        return str(event.data["communication_id"])
    if event.type.startswith("loyalty."):
        return str(event.data["entry"]["ref"])
    return None
