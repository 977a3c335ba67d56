"""Reads of a customer's engagement: preferences, live notes, contactability, and the pages
read from the end of the event stream (timeline, communications)."""

from __future__ import annotations

from collections.abc import Collection

from read_side.contactability import Contactability, contactability
from read_side.deadline import within
from read_side.merged_streams import MAX_CHAIN, merged_sources, newest_across
from read_side.projections.served import ServedBy
from read_side.projections.store import ProjectionStore
from read_side.queries import CustomerQueries
from read_side.records import CustomerRecords
from read_side.timeline import (
    KIND_OF,
    NewestEvents,
    StreamPage,
    TimelinePage,
    is_stream_cursor,
    newest_matching,
    timeline_item,
)
from read_side.timeline_pages import projected_page
from shared.clock import Clock, utc_now
from shared.engagement import (
    CommunicationPage,
    Note,
    NotePage,
    Preferences,
    communication_item,
    preferences_resource,
)
from shared.errors import NotFound
from shared.principal import Principal


class EngagementReads:
    """Preferences and notes (personal reads, recorded in the access audit) and
    contactability (one read-model read; it discloses no personal value)."""

    def __init__(
        self,
        records: CustomerRecords,
        queries: CustomerQueries,
        newest: NewestEvents,
        clock: Clock = utc_now,
        *,
        timeline: ServedBy | None = None,
        contacts: ServedBy | None = None,
    ) -> None:
        self._records = records
        self._queries = queries
        self._newest = newest
        self._clock = clock
        self._timeline = timeline
        self._contacts = contacts

    async def timeline(
        self, principal: Principal, customer_id: str, kinds: Collection[str] | None,
        limit: int, cursor: str | None, token: str | None = None,
    ) -> TimelinePage:  # fmt: skip
        """Newest first, from the timeline projection (after `token`); read from the end of
        the event stream while the projection is not built yet or does not know the
        customer (none in this tenant, or not projected yet); `kinds` filters."""
        store = await self._projected_timeline(token, cursor)
        if store is not None:
            tenant = principal.tenant_id
            sources = await self._sources(tenant, customer_id, token)
            projected = await within(
                self._queries.timeout,
                projected_page(store, tenant, customer_id, kinds, limit, cursor, sources),
                "the timeline projection",
            )
            if projected is not None:
                await self._records.record_access(principal, customer_id, "timeline", None)
                return projected
        types = None if not kinds else {t for t, k in KIND_OF.items() if k in kinds}
        page = await self._page(principal, customer_id, types, limit, cursor, "timeline")
        return TimelinePage([timeline_item(e) for e in page.events], page.next_cursor)

    async def _projected_timeline(
        self, token: str | None, cursor: str | None
    ) -> ProjectionStore | None:
        """The timeline projection's store when it serves this read (a stream cursor stays
        on the stream)."""
        if self._timeline is None or (cursor is not None and is_stream_cursor(cursor)):
            return None
        return await self._timeline.store(token)

    async def communications(
        self, principal: Principal, customer_id: str, limit: int, cursor: str | None,
        token: str | None = None,
    ) -> CommunicationPage:  # fmt: skip
        """Newest first (by when they were recorded), each status of a notification its own;
        a target's include those of the customers merged into it (`merged_streams`)."""
        types = {"customer.communication_recorded"}
        sources = [] if cursor and is_stream_cursor(cursor) else await self._sources(
            principal.tenant_id, customer_id, token
        )  # fmt: skip
        if sources:
            streams = [customer_id, *sorted(sources)]
            page = await within(
                self._queries.timeout,
                newest_across(self._newest, principal.tenant_id, streams, types, limit, cursor),
                "the event store",
            )
            for reader in streams:
                await self._records.record_access(principal, reader, "communications", None)
        else:
            page = await self._page(principal, customer_id, types, limit, cursor, "communications")
        items = [communication_item(e.data, e.actor) for e in page.events]
        return CommunicationPage(items, page.next_cursor)

    async def _sources(self, tenant_id: str, customer_id: str, token: str | None) -> list[str]:
        """The customers merged into this one, and into those (from the read model, as of
        `token` when given: the cache is skipped then)."""
        await self._queries.waiter.wait(token)
        found: list[str] = []
        pending = [customer_id]
        while pending and len(found) < MAX_CHAIN:
            wanted = pending.pop()
            doc = None if token else await self._queries.cache.get(tenant_id, wanted)
            doc = doc or await self._queries.document(tenant_id, wanted)
            fresh = [s for s in merged_sources(doc) if s not in found and s != customer_id]
            found += fresh
            pending += fresh
        return found

    async def _page(
        self, principal: Principal, customer_id: str, types: Collection[str] | None,
        limit: int, cursor: str | None, action: str,
    ) -> StreamPage:  # fmt: skip
        page = await within(
            self._queries.timeout,
            newest_matching(self._newest, principal.tenant_id, customer_id, types, limit, cursor),
            "the event store",
        )
        await self._records.record_access(principal, customer_id, action, None)
        return page

    async def preferences(
        self, principal: Principal, customer_id: str, token: str | None
    ) -> tuple[Preferences, int]:
        """The preferences document and the customer version (the ETag)."""
        doc = await self._records.read(principal, customer_id, token, "preferences")
        return preferences_resource(doc.get("preferences")), int(doc["version"])

    async def notes(
        self, principal: Principal, customer_id: str, token: str | None
    ) -> tuple[NotePage, int]:
        """The notes not deleted, newest first."""
        doc = await self._records.read(principal, customer_id, token, "notes")
        notes = sorted((doc.get("liveNotes") or {}).values(), key=lambda n: n["at"], reverse=True)
        return NotePage([Note(**note) for note in notes]), int(doc["version"])

    async def contactability(
        self, tenant_id: str, customer_id: str, purpose: str, token: str | None
    ) -> Contactability:
        """Whether each channel may carry a message for `purpose` now: one read by key of the
        customer's contactability document; the cache or the view store while that projection
        is not built or has not seen the customer."""
        store = None if self._contacts is None else await self._contacts.store(token)
        if store is not None:
            found = await within(
                self._queries.timeout, store.get(tenant_id, customer_id), "contactability"
            )
            if found is not None:
                return contactability(found.doc, purpose, self._clock())
        await self._queries.waiter.wait(token)
        doc = None if token else await self._queries.cache.get(tenant_id, customer_id)
        if doc is None:
            doc = await self._queries.document(tenant_id, customer_id)
            if doc is None:
                raise NotFound("No customer with this id.")
            await self._queries.cache.add(doc)
        return contactability(doc, purpose, self._clock())
