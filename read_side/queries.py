"""Query use cases: one customer, a filtered page, history and state as of a time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from read_side.cache import DocCache
from read_side.consistency import ConsistencyWaiter
from read_side.deadline import within
from read_side.events import EventEnvelope
from read_side.generations import ActiveGeneration
from read_side.history import history_items, state_as_of
from read_side.ports import InvalidCursor, ListQuery
from read_side.views import to_resource
from shared.errors import FieldError, MalformedRequest, NotFound

EventStream = Callable[[str], Awaitable[list[EventEnvelope]]]


class CustomerQueries:
    """Reads served from the read models; audit reads straight from the event stream."""

    def __init__(
        self,
        views: ActiveGeneration[Any],
        index: ActiveGeneration[Any],
        cache: DocCache,
        waiter: ConsistencyWaiter,
        stream: EventStream,
        *,
        search_waiter: ConsistencyWaiter | None = None,
        timeout: float = 2.0,
    ) -> None:
        self.views = views
        self.index = index
        self.cache = cache
        self.waiter = waiter
        self.search_waiter = search_waiter or waiter
        self.timeout = timeout
        self._stream = stream

    async def document(self, tenant_id: str, customer_id: str) -> Any:
        """The view store's document (None when absent), within the request deadline."""

        async def read() -> Any:
            return await (await self.views.current()).get(tenant_id, customer_id)

        return await within(self.timeout, read(), "the read model")

    async def get(self, tenant_id: str, customer_id: str, token: str | None) -> dict[str, Any]:
        """The customer (active or deleted) from the read model, via the cache (which is
        optional: `DocCache` readers do without it while it is down)."""
        await self.waiter.wait(token)
        doc = None if token else await self.cache.get(tenant_id, customer_id)
        if doc is None:
            doc = await self.document(tenant_id, customer_id)
            if doc is None:
                raise NotFound("No customer with this id.")
            await self.cache.add(doc)
        return to_resource(doc)

    async def search(self, query: ListQuery, token: str | None) -> dict[str, Any]:
        """A page of customers in sort order, with `total` and `nextCursor`; the search index
        is required (503 while it is down or silent)."""
        await self.search_waiter.wait(token)

        async def index_page() -> Any:
            return await (await self.index.current()).search(query)

        async def views_page(ids: list[str]) -> Any:
            return await (await self.views.current()).get_many(query.tenant_id, ids)

        try:
            page = await within(self.timeout, index_page(), "the search index")
        except InvalidCursor as error:
            raise MalformedRequest(
                "The cursor is not valid for this query.",
                errors=[FieldError("cursor", str(error) or "invalid cursor")],
            ) from error
        docs = page.docs or await within(self.timeout, views_page(page.ids), "the read model")
        return {
            "items": [to_resource(doc) for doc in docs],
            "total": page.total,
            "nextCursor": page.next_cursor,
        }

    async def events(self, tenant_id: str, customer_id: str) -> list[EventEnvelope]:
        """The customer's events, oldest first; 404 for another tenant's customer."""
        return await self._events(tenant_id, customer_id)

    async def _events(self, tenant_id: str, customer_id: str) -> list[EventEnvelope]:
        events = await self._stream(customer_id)
        if not events or events[0].tenant_id != tenant_id:
            raise NotFound("No customer with this id.")
        return events

    async def history(self, tenant_id: str, customer_id: str) -> dict[str, Any]:
        """Every event of the customer, oldest first, with field-level changes."""
        return {"items": history_items(await self._events(tenant_id, customer_id))}

    async def as_of(self, tenant_id: str, customer_id: str, moment: datetime) -> dict[str, Any]:
        """The customer as it was at `moment`, rebuilt from its events."""
        state = state_as_of(await self._events(tenant_id, customer_id), moment)
        if state is None:
            raise NotFound("The customer did not exist at that time.")
        return state
