"""What every search-index contract module shares: ids, an event builder, the harness."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from read_side.events import EventEnvelope
from read_side.ports import ListQuery
from read_side.search import ManagedSearchIndex
from tests.contract.event_builder import EventBuilder


def cid(n: int) -> str:
    """Ids whose order is their number, so ties in the expected orders are plain to read."""
    return f"00000000-0000-4000-8000-{n:012d}"


class Log(EventBuilder):
    """Builds EventEnvelopes with increasing positions and per-customer versions."""

    def created(
        self, customer: str, tenant: str = "t1", at: datetime | None = None, **profile: Any
    ) -> EventEnvelope:
        kind = profile.pop("customer_type", "new")
        return self.event("created", tenant, customer, at, customer_type=kind, profile=profile)

    def changed(self, customer: str, tenant: str = "t1", **changes: Any) -> EventEnvelope:
        return self.event("profile_changed", tenant, customer, changes=changes)


class SearchIndexHarness:
    """Builds indexes of the adapter under test (`make_index`) and reads every page."""

    async def make_index(self, generation: int = 1) -> ManagedSearchIndex:
        """An index on this test's isolated storage (same storage for every generation)."""
        raise NotImplementedError

    async def loaded(self, *events: EventEnvelope) -> ManagedSearchIndex:
        index = await self.make_index()
        await index.apply(list(events), events[-1].position)
        return index

    async def ids(self, index: ManagedSearchIndex, limit: int = 3, **query: Any) -> list[str]:
        """Every page of the query, concatenated; checks `total` on each page."""
        found: list[str] = []
        cursor: str | None = None
        query.setdefault("tenant_id", "t1")
        while True:
            page = await index.search(ListQuery(limit=limit, cursor=cursor, **query))
            found += page.ids
            cursor = page.next_cursor
            assert len(page.ids) == (limit if cursor else page.total - len(found) + len(page.ids))
            if cursor is None:
                assert page.total == len(found)
                assert len(set(found)) == len(found)
                return found
