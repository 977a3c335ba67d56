"""A segment's members and count, read from the `segment_membership` projection once it has
reached the request's consistency token (a command's position): the count is then exact at
that position, and the members are the documents the projection holds at its checkpoint.
While the projection is not built with the code's version (its first backfill after an
upgrade), the filter is evaluated over the read model instead (`read_time`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from read_side.consistency import ConsistencyWaiter
from read_side.deadline import within
from read_side.generations import ActiveGeneration
from read_side.projections.store import ProjectionStore
from read_side.segments.port import SegmentStore
from read_side.segments.read_time import ReadTimeMembers
from read_side.segments.tables import sort_key
from read_side.views import CustomerDoc
from shared.errors import FieldError, MalformedRequest, ServiceUnavailable
from shared.segment_filter import SegmentFilter


@dataclass(frozen=True)
class Page:
    """One page of members, the segment's count, and the next page's cursor."""

    docs: list[CustomerDoc]
    total: int
    next_cursor: str | None


class SegmentMembers:
    """Counts and members of segments, at a consistency token."""

    def __init__(
        self,
        live: ActiveGeneration[ProjectionStore] | None,
        *,
        version: int,
        fallback: ReadTimeMembers,
        head: Callable[[], Awaitable[int]],
        clock: Callable[[], datetime],
        timeout: float = 5.0,
        read_timeout: float = 2.0,
    ) -> None:
        self._live = live
        self._version = version
        self._fallback = fallback
        self._built = False
        self._clock = clock
        self._read_timeout = read_timeout
        checkpoints = [live.checkpoint] if live is not None else []
        self._waiter = ConsistencyWaiter(
            checkpoints, head=head, timeout=timeout, read_timeout=read_timeout
        )

    def now(self) -> datetime:
        """The moment an export checks contactability at (the injected clock)."""
        return self._clock()

    async def settle(self, token: str | None) -> None:
        """Wait for the token's position (or refuse a malformed one)."""
        if await self._store(token) is None:
            await self._fallback.settle(token)

    async def count(
        self, tenant_id: str, segment_id: str, spec: SegmentFilter, token: str | None
    ) -> int:
        """Members at the token's position (or later)."""
        store = await self._store(token)
        if store is None:
            return len(await self._fallback.members(tenant_id, spec, token))
        return await within(self._read_timeout, store.count(tenant_id, segment_id), _WHAT)

    async def preview(self, tenant_id: str, spec: SegmentFilter, token: str | None) -> int:
        """Customers a filter not saved yet would hold, at the token's position (or later)."""
        store = await self._store(token)
        if store is None:
            return len(await self._fallback.members(tenant_id, spec, token))
        return await within(
            self._read_timeout, store.matching(tenant_id, spec, self._clock()), _WHAT
        )

    async def page(
        self,
        tenant_id: str,
        segment_id: str,
        spec: SegmentFilter,
        token: str | None,
        cursor: str | None,
        limit: int,
    ) -> Page:
        """Members in `GET /customers` order (newest first) from `cursor`."""
        after = _decode(cursor)
        store = await self._store(token)
        if store is None:
            found = await self._fallback.members(tenant_id, spec, token)
            ordered = sorted(found, key=sort_key, reverse=True)
            rest = [doc for doc in ordered if after is None or sort_key(doc) < after]
            following = sort_key(rest[limit - 1]) if len(rest) > limit else None
            return Page(rest[:limit], len(found), _encode(following))
        total = await within(self._read_timeout, store.count(tenant_id, segment_id), _WHAT)
        page = await within(
            self._read_timeout, store.page(tenant_id, segment_id, after, limit), _WHAT
        )
        return Page(page.docs, total, _encode(page.next_after))

    async def everyone(
        self, tenant_id: str, segment_id: str, spec: SegmentFilter, token: str | None
    ) -> list[CustomerDoc]:
        """Every member, newest customer first (the campaign export)."""
        store = await self._store(token)
        if store is None:
            found = await self._fallback.members(tenant_id, spec, token)
            return sorted(found, key=sort_key, reverse=True)
        return await store.everyone(tenant_id, segment_id)

    async def _store(self, token: str | None) -> SegmentStore | None:
        """The serving store once it passed `token`; None while it is not built with this
        version (then the token is the read model's to honour)."""
        if self._live is None:
            raise ServiceUnavailable("Segment membership is not configured.", retry_after=5)
        if not self._built:  # once built with this version it stays so (rebuilds keep it)
            probe = await within(self._read_timeout, self._live.current(), _WHAT)
            built = await within(self._read_timeout, probe.active_version(), _WHAT)
            self._built = built == self._version
            if not self._built:
                return None
            self._live.refresh()  # a first backfill just switched (and dropped its old tables)
        await self._waiter.wait(token)
        store = await within(self._read_timeout, self._live.current(), _WHAT)
        if not isinstance(store, SegmentStore):
            raise ServiceUnavailable("Segment membership is not configured.", retry_after=5)
        return store


_WHAT = "the segment membership store"


def _encode(after: str | None) -> str | None:
    return None if after is None else base64.urlsafe_b64encode(after.encode()).decode()


def _decode(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise MalformedRequest(
            "The cursor is not valid.", errors=[FieldError("cursor", "invalid")]
        ) from None
