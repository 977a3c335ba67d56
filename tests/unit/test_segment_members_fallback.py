"""While `segment_membership` is not built with the code's version (its first backfill after
an upgrade), segment counts and members come from the filter evaluated over the read model;
once built, from the projection — and they page the same way."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from read_side.segments.members import SegmentMembers
from read_side.views import CustomerDoc
from shared.errors import ServiceUnavailable
from shared.segment_filter import SegmentFilter, parse_filter

DOCS: list[CustomerDoc] = [
    {"id": f"c{i}", "createdAt": f"2026-01-0{i}T00:00:00.000Z", "state": "active"}
    for i in range(1, 6)
]


class Fallback:
    def __init__(self) -> None:
        self.calls = 0

    async def settle(self, token: str | None) -> None:
        self.calls += 1

    async def members(self, tenant_id: str, spec: SegmentFilter, token: str | None) -> list[Any]:
        self.calls += 1
        return list(DOCS)


class Store:
    def __init__(self, version: int | None) -> None:
        self.version = version

    async def active_version(self) -> int | None:
        return self.version

    async def checkpoint(self) -> int:
        return 10


class Live:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def current(self) -> Store:
        return self.store

    async def checkpoint(self) -> int:
        return 10

    def refresh(self) -> None:
        """A first backfill just switched: the reads look the active generation up again."""
        self.refreshed = True


def members(version: int | None, fallback: Fallback) -> SegmentMembers:
    async def head() -> int:
        return 10

    return SegmentMembers(Live(Store(version)), version=1, fallback=fallback,  # type: ignore[arg-type]
                          head=head, clock=lambda: datetime.now(UTC))  # fmt: skip


def test_an_unbuilt_projection_answers_from_the_read_model() -> None:
    fallback = Fallback()
    segments = members(None, fallback)
    spec = parse_filter({})

    async def run() -> list[str]:
        assert await segments.count("acme", "s", spec, None) == 5
        seen, cursor = [], None
        while True:
            page = await segments.page("acme", "s", spec, None, cursor, 2)
            assert page.total == 5
            seen += [str(doc["id"]) for doc in page.docs]
            cursor = page.next_cursor
            if cursor is None:
                return seen

    assert asyncio.run(run()) == ["c5", "c4", "c3", "c2", "c1"]  # newest first, as the store
    assert fallback.calls == 4


def test_a_built_projection_is_not_bypassed() -> None:
    fallback = Fallback()
    segments = members(1, fallback)

    with pytest.raises(ServiceUnavailable, match="not configured"):  # the fake is no store
        asyncio.run(segments.count("acme", "s", parse_filter({}), None))
    assert fallback.calls == 0
