"""Bulk export: every customer matching a list query, as they all were at one log position.

The read models move while a long export walks them, so the export pins a position `P` (the
point both the view store and the search index have reached when it starts) and answers as
of `P`:

- It walks the search index in `createdAt` order (a customer's creation time never changes,
  so the walk's order is stable under concurrent writes) and reads each page's documents.
- Before using a page, it reads the event log past `P` (`ChangeFeed`): a customer with no
  event after `P` has the document it had at `P`, and its index entry too, so it is written
  as read. A customer changed after `P` is skipped by the walk and remembered with the first
  version written after `P` and where the walk was when the change was noticed.
- At the end each remembered customer is rebuilt from its own events up to that version,
  tested against the query by the index's own rules (`search.model.matches`), and written
  unless the walk had already written it (it had passed it, unchanged, before the change).

Memory holds one page and the customers changed during the export, never the whole result.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from read_side.events import EventEnvelope
from read_side.ports import ListQuery
from read_side.queries import CustomerQueries, EventStream
from read_side.search.model import entry, matches, plan
from read_side.views import CustomerDoc, evolve

#: `(after, limit)` → the Customer events stored after position `after` (at most `limit`
#: notifications read) and the position read up to.
ChangeFeed = Callable[[int, int], Awaitable[tuple[list[EventEnvelope], int]]]
#: Customers per index page: 1,000 (the index's bound) instead of the API's 100 made 100,000
#: customers a tenth of the round trips (index, documents, log past the snapshot).
PAGE = 1000
FEED_BATCH = 1000
WalkPosition = tuple[str, str]
"""(createdAt, id) of the last customer the walk passed."""


@dataclass(frozen=True)
class _Change:
    first_version: int
    walk_at: WalkPosition


class CustomerExport:
    """The export use case over the read models and the event log."""

    def __init__(self, queries: CustomerQueries, changes: ChangeFeed, stream: EventStream) -> None:
        self._queries = queries
        self._changes = changes
        self._stream = stream

    async def position(self, token: str | None) -> int:
        """The snapshot position: after the client's consistency token, the point both read
        models have reached."""
        await self._queries.search_waiter.wait(token)
        views = await (await self._queries.views.current()).checkpoint()
        index = await (await self._queries.index.current()).checkpoint()
        return min(views, index)

    async def documents(
        self,
        query: ListQuery,
        position: int,
        *,
        page: int = PAGE,
        fields: Sequence[str] | None = None,
    ) -> AsyncIterator[CustomerDoc]:
        """Every matching customer's document as of `position`, oldest first (customers
        changed during the export come last), read `page` at a time; with `fields`, the walk
        reads only those fields (the documents rebuilt for changed customers are whole)."""
        walk = _Walk(self, replace(query, sort="createdAt", limit=page, cursor=None), position)
        walk.fields = tuple(fields) if fields is not None else None
        async for doc in walk.pages():
            yield doc
        async for doc in walk.changed_tail():
            yield doc


class _Walk:
    """One export's state: the index cursor, the log read past `P`, the changed customers."""

    def __init__(self, export: CustomerExport, query: ListQuery, position: int) -> None:
        self._export = export
        self._query = query
        self._position = position
        self._read_to = position
        self._changed: dict[str, _Change] = {}
        self._at: WalkPosition = ("", "")
        self.fields: tuple[str, ...] | None = None

    async def pages(self) -> AsyncIterator[CustomerDoc]:
        """The walk. The next page is read while the caller writes this one (the index and
        the view store answer on their own threads or connections): read one after the other,
        a page's round trips were most of an export's time. Every page's log read still
        follows the read of its documents, so no change after `P` goes unnoticed."""
        ahead = asyncio.ensure_future(self._page(None))
        try:
            while True:
                next_cursor, docs = await ahead
                if next_cursor is not None:
                    ahead = asyncio.ensure_future(self._page(next_cursor))
                await self._read_changes()
                for doc in docs:
                    if str(doc["id"]) not in self._changed:
                        yield doc
                    self._at = (str(doc.get("createdAt") or ""), str(doc["id"]))
                if next_cursor is None:
                    return
        finally:
            ahead.cancel()

    async def _page(self, cursor: str | None) -> tuple[str | None, list[CustomerDoc]]:
        """One page of the walk: the next cursor and the page's documents."""
        queries = self._export._queries
        index = await queries.index.current()
        page = await index.search(replace(self._query, cursor=cursor))
        views = await queries.views.current()
        docs = await views.get_many(self._query.tenant_id, page.ids, self.fields)
        return page.next_cursor, docs

    async def _read_changes(self) -> None:
        """Note every customer of the tenant with an event stored after `P` (up to the head)."""
        while True:
            envelopes, read_to = await self._export._changes(self._read_to, FEED_BATCH)
            for event in envelopes:
                if event.tenant_id != self._query.tenant_id or event.version < 1:
                    continue
                if event.customer_id not in self._changed:
                    self._changed[event.customer_id] = _Change(event.version, self._at)
            if read_to == self._read_to:
                return
            self._read_to = read_to

    async def changed_tail(self) -> AsyncIterator[CustomerDoc]:
        """The customers changed after `P`, rebuilt as of `P`, that match and were not
        written by the walk."""
        await self._read_changes()
        wanted = plan(self._query)
        for customer_id, change in sorted(self._changed.items()):
            doc: CustomerDoc | None = None
            for event in await self._export._stream(customer_id):
                if event.version >= change.first_version:
                    break
                doc = evolve(doc, event)
            if doc is None or not matches(entry(doc), wanted):
                continue
            if (str(doc.get("createdAt") or ""), customer_id) <= change.walk_at:
                continue  # the walk passed it before it changed: already written
            yield doc
