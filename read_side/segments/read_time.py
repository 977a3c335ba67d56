"""A segment's members evaluated at read time, while the `segment_membership` projection is
not built with the code's version yet (the first start after an upgrade backfills it in the
background): the customers whose read-model document matches the filter now.

The search index narrows the candidates by state, type and tags (exact in both); every key is
then checked by `matches`, the one definition of membership. Slow for a large tenant (every
candidate document is read): a stopgap, not the way segments are served.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from read_side.deadline import within
from read_side.ports import ListQuery
from read_side.queries import CustomerQueries
from read_side.segments.membership import matches
from read_side.views import CustomerDoc
from shared.segment_filter import SegmentFilter

PAGE = 100


class ReadTimeMembers:
    """Evaluates segment filters over the read model."""

    def __init__(self, queries: CustomerQueries, clock: Callable[[], datetime]) -> None:
        self._queries = queries
        self._clock = clock

    async def settle(self, token: str | None) -> None:
        """Wait for the read models to reach the token (or refuse a malformed one)."""
        await self._queries.search_waiter.wait(token)

    async def members(
        self, tenant_id: str, spec: SegmentFilter, token: str | None
    ) -> list[CustomerDoc]:
        """Every member, newest customer first (as `GET /customers` sorts by default)."""
        await self._queries.search_waiter.wait(token)
        now = self._clock()
        query = ListQuery(tenant_id=tenant_id, type=spec.type, state=spec.state or "active",
                          tags=spec.tags, limit=PAGE)  # fmt: skip
        found: list[CustomerDoc] = []
        cursor: str | None = None
        timeout = self._queries.timeout
        while True:
            index = await self._queries.index.current()
            page = await within(timeout, index.search(_at(query, cursor)), "the search index")
            docs = page.docs or await within(
                timeout,
                (await self._queries.views.current()).get_many(tenant_id, page.ids),
                "the read model",
            )
            found += [doc for doc in docs if matches(spec, doc, now)]
            cursor = page.next_cursor
            if cursor is None:
                return found


def _at(query: ListQuery, cursor: str | None) -> ListQuery:
    return ListQuery(
        tenant_id=query.tenant_id, type=query.type, state=query.state, tags=query.tags,
        limit=query.limit, cursor=cursor,
    )  # fmt: skip
