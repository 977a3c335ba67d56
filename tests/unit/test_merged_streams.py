"""A target's communications include those of the customers merged into it: pages read across
several streams (`read_side.merged_streams`) come newest first by when they were recorded,
each event once, whatever the page size, and a cursor not handed out is a 400."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from read_side.events import EventEnvelope
from read_side.merged_streams import decode, encode, merged_sources, newest_across
from shared.errors import MalformedRequest, NotFound

START = datetime(2026, 3, 1, tzinfo=UTC)
SENT = "customer.communication_recorded"


def streams(minutes: dict[str, list[int]]) -> dict[str, list[EventEnvelope]]:
    """Per customer: a creation, then one communication at each of these minutes (ascending),
    and a note between each (not a communication: filtered out)."""
    found: dict[str, list[EventEnvelope]] = {}
    position = 0
    for customer, times in minutes.items():
        kinds = [("customer.created", 0)]
        for minute in sorted(times):
            kinds += [(SENT, minute), ("customer.note_added", minute)]
        events = []
        for version, (kind, minute) in enumerate(kinds, start=1):
            position += 1
            events.append(EventEnvelope(
                position=position, event_id=f"{customer}-{version}", type=kind,
                customer_id=customer, version=version, tenant_id="acme",
                occurred_at=START + timedelta(minutes=minute, microseconds=position),
            ))  # fmt: skip
        found[customer] = events
    return found


def reader(stored: dict[str, list[EventEnvelope]]):  # type: ignore[no-untyped-def]
    async def newest(customer_id: str, below: int | None, limit: int) -> list[EventEnvelope]:
        events = [e for e in stored.get(customer_id, []) if below is None or e.version < below]
        return list(reversed(events))[:limit]

    return newest


def read_all(stored: dict[str, list[EventEnvelope]], limit: int) -> list[EventEnvelope]:
    newest, ids, seen, cursor = reader(stored), list(stored), [], None
    for _ in range(100):
        page = asyncio.run(newest_across(newest, "acme", ids, {SENT}, limit, cursor))
        assert len(page.events) <= limit
        seen += page.events
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("the pages never end")


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(1, 50), max_size=6), st.lists(st.integers(1, 50), max_size=6),
    st.lists(st.integers(1, 50), max_size=3), st.integers(1, 4),
)  # fmt: skip
def test_given_a_target_and_its_sources_then_pages_list_every_communication_once_newest_first(
    target: list[int], source: list[int], other: list[int], limit: int
) -> None:
    stored = streams({"ann": target, "annie": source, "bo": other})
    seen = read_all(stored, limit)
    expected = sorted(
        (e for events in stored.values() for e in events if e.type == SENT),
        key=lambda e: (e.occurred_at, e.position), reverse=True,
    )  # fmt: skip
    assert [e.event_id for e in seen] == [e.event_id for e in expected]


def test_when_the_target_is_unknown_then_404_and_a_foreign_cursor_is_400() -> None:
    newest = reader(streams({"annie": [1]}))
    with pytest.raises(NotFound):
        asyncio.run(newest_across(newest, "acme", ["ann", "annie"], {SENT}, 5, None))
    handed = encode({"ann": 3, "annie": None})
    assert decode(handed, ["ann", "annie"]) == {"ann": 3, "annie": None}
    wrong = [encode({"ann": 3}), encode({"ann": -1, "annie": 0}), "djM", "not base64 !"]
    for cursor in [*wrong, handed.upper()]:
        with pytest.raises(MalformedRequest):
            decode(cursor, ["ann", "annie"])
    with pytest.raises(MalformedRequest):  # Bo was merged in since: start again
        decode(handed, ["ann", "annie", "bo"])


def test_the_sources_are_those_the_document_remembers() -> None:
    assert merged_sources({"merges": {"annie": {}, "bo": {}}}) == ["annie", "bo"]
    assert merged_sources({"merges": {}}) == [] == merged_sources(None)
