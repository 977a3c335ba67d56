"""Query use cases: one customer, a filtered page, history and state as of a time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import msgspec

from read_side.cache import DocCache
from read_side.chain import ChainCheck, ChainVerifier
from read_side.consistency import ConsistencyWaiter
from read_side.deadline import within
from read_side.events import EventEnvelope
from read_side.generations import ActiveGeneration
from read_side.history import history_items, state_as_of
from read_side.ports import InvalidCursor, ListQuery, Page, SearchModel, ViewModel
from read_side.rendered_cache import Rendered, RenderedCache, StampedViews, render
from read_side.resources import CustomerHistory, CustomerPage
from read_side.views import CustomerDoc, to_resource
from shared.errors import FieldError, MalformedRequest, NotFound
from shared.resources import CustomerResource

EventStream = Callable[[str], Awaitable[list[EventEnvelope]]]


class CustomerQueries:
    """Reads served from the read models; audit reads straight from the event stream."""

    def __init__(
        self,
        views: ActiveGeneration[ViewModel],
        index: ActiveGeneration[SearchModel],
        cache: DocCache,
        waiter: ConsistencyWaiter,
        stream: EventStream,
        *,
        search_waiter: ConsistencyWaiter | None = None,
        timeout: float = 2.0,
        chain: ChainVerifier | None = None,
        ledger_stream: EventStream | None = None,
        first_event: EventStream | None = None,
    ) -> None:
        self.views = views
        self.index = index
        self.cache = cache
        self.waiter = waiter
        self.search_waiter = search_waiter or waiter
        self.timeout = timeout
        self._stream = stream
        self._chain = chain
        self._ledger_stream = ledger_stream
        self._first_event = first_event or stream

    async def document(self, tenant_id: str, customer_id: str) -> CustomerDoc | None:
        """The view store's document (None when absent), within the request deadline."""

        async def read() -> CustomerDoc | None:
            return await (await self.views.current()).get(tenant_id, customer_id)

        return await within(self.timeout, read(), "the read model")

    async def get(self, tenant_id: str, customer_id: str, token: str | None) -> CustomerResource:
        """The customer (active or deleted) from the read model, via the cache (which is
        optional: `DocCache` readers do without it while it is down)."""
        await self.waiter.wait(token)
        doc = await self._cached_doc(tenant_id, customer_id, token)
        return msgspec.convert(to_resource(doc), CustomerResource)

    async def rendered(self, tenant_id: str, customer_id: str, token: str | None) -> Rendered:
        """`get`'s answer as JSON bytes and version: with a `RenderedCache` (SQLite views),
        from it while the read model has not moved since it was rendered (see there)."""
        await self.waiter.wait(token)
        cache = self.cache if isinstance(self.cache, RenderedCache) else None
        if cache is None:
            return render(await self._cached_doc(tenant_id, customer_id, token))
        if (hit := cache.rendered(tenant_id, customer_id)) is not None:
            return hit
        views = await self.views.current()
        if not isinstance(views, StampedViews):
            return render(await self._cached_doc(tenant_id, customer_id, token))
        doc, stamp = await within(
            self.timeout, views.get_stamped(tenant_id, customer_id), "the read model"
        )
        if doc is None:
            raise NotFound("No customer with this id.")
        answer = render(doc)
        if stamp is not None:
            cache.keep(tenant_id, customer_id, answer, stamp)
        return answer

    async def _cached_doc(self, tenant_id: str, customer_id: str, token: str | None) -> CustomerDoc:
        doc = None if token else await self.cache.get(tenant_id, customer_id)
        if doc is None:
            doc = await self.document(tenant_id, customer_id)
            if doc is None:
                raise NotFound("No customer with this id.")
            await self.cache.add(doc)
        return doc

    async def search(self, query: ListQuery, token: str | None) -> CustomerPage:
        """A page of customers in sort order, with `total` and `nextCursor`; the search index
        is required (503 while it is down or silent)."""
        await self.search_waiter.wait(token)

        async def index_page() -> Page:
            return await (await self.index.current()).search(query)

        async def views_page(ids: list[str]) -> list[CustomerDoc]:
            return await (await self.views.current()).get_many(query.tenant_id, ids)

        try:
            page = await within(self.timeout, index_page(), "the search index")
        except InvalidCursor as error:
            raise MalformedRequest(
                "The cursor is not valid for this query.",
                errors=[FieldError("cursor", str(error) or "invalid cursor")],
            ) from error
        docs = page.docs or await within(self.timeout, views_page(page.ids), "the read model")
        items = msgspec.convert([to_resource(doc) for doc in docs], list[CustomerResource])
        return CustomerPage(items=items, total=page.total, next_cursor=page.next_cursor)

    async def events(self, tenant_id: str, customer_id: str) -> list[EventEnvelope]:
        """The customer's events, oldest first; 404 for another tenant's customer."""
        return await self._events(tenant_id, customer_id)

    async def _events(self, tenant_id: str, customer_id: str) -> list[EventEnvelope]:
        events = await self._stream(customer_id)
        if not events or events[0].tenant_id != tenant_id:
            raise NotFound("No customer with this id.")
        return events

    async def ledger_events(self, customer_id: str) -> list[EventEnvelope]:
        """The events of the customer's loyalty ledger, oldest first (after `events` checked
        the tenant: a ledger names its customer, not the other way round)."""
        return await self._ledger_stream(customer_id) if self._ledger_stream else []

    async def history(self, tenant_id: str, customer_id: str) -> CustomerHistory:
        """Every event of the customer, oldest first, with field-level changes and its hash in
        the tamper-evident log; `chain` says whether the customer's chain verifies."""
        items = history_items(await self._events(tenant_id, customer_id))
        history = msgspec.convert({"items": items}, CustomerHistory)
        if self._chain is not None:
            history.chain = await self._chain(customer_id)
        return history

    async def verify_chain(self, tenant_id: str, customer_id: str | None) -> ChainCheck:
        """Verify one of the tenant's customers' chain (404 for another tenant's), or the whole
        log, which every tenant shares: a break in another tenant's customer is reported
        without naming that customer."""
        if self._chain is None:
            raise NotFound("The event log is not verifiable here.")
        if customer_id is not None and not await self._belongs(tenant_id, customer_id):
            raise NotFound("No customer with this id.")
        check = await self._chain(customer_id)
        named = check.first_broken.customer_id if check.first_broken else None
        if named is None or named == customer_id or await self._belongs(tenant_id, named):
            return check
        return check.hiding_customer()

    async def _belongs(self, tenant_id: str, customer_id: str) -> bool:
        """True when the customer is the tenant's: in its read model, or else (not projected
        yet) by its first event alone — a later event edited by hand may not decode, and
        reading the whole stream would then disown the customer."""
        try:
            if await self.document(tenant_id, customer_id) is not None:
                return True
            events = await self._first_event(customer_id)
        except Exception:  # a store edited by hand may fail to decode in any way
            return False
        return bool(events) and events[0].tenant_id == tenant_id

    async def as_of(self, tenant_id: str, customer_id: str, moment: datetime) -> CustomerResource:
        """The customer as it was at `moment`, rebuilt from its events."""
        state = state_as_of(await self._events(tenant_id, customer_id), moment)
        if state is None:
            raise NotFound("The customer did not exist at that time.")
        return msgspec.convert(state, CustomerResource)
