"""A segment's members and count, read from the `segment_membership` projection once it has
reached the request's consistency token (a command's position): the count is then exact at
that position, and the members are the documents the projection holds at its checkpoint.
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
from read_side.segments.store import MembershipStore
from read_side.views import CustomerDoc
from shared.errors import FieldError, MalformedRequest, ServiceUnavailable


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
        head: Callable[[], Awaitable[int]],
        clock: Callable[[], datetime],
        timeout: float = 5.0,
        read_timeout: float = 2.0,
    ) -> None:
        self._live = live
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
        await self._waiter.wait(token)

    async def count(self, tenant_id: str, segment_id: str, token: str | None) -> int:
        """Members at the token's position (or later)."""
        store = await self._store(token)
        return await within(self._read_timeout, store.count(tenant_id, segment_id), _WHAT)

    async def page(
        self, tenant_id: str, segment_id: str, token: str | None, cursor: str | None, limit: int
    ) -> Page:
        """Members in `GET /customers` order (newest first) from `cursor`."""
        after = _decode(cursor)
        store = await self._store(token)
        total = await within(self._read_timeout, store.count(tenant_id, segment_id), _WHAT)
        found = await within(
            self._read_timeout, store.page(tenant_id, segment_id, after, limit), _WHAT
        )
        return Page(found.docs, total, _encode(found.next_after))

    async def everyone(
        self, tenant_id: str, segment_id: str, token: str | None
    ) -> list[CustomerDoc]:
        """Every member, newest customer first (the campaign export)."""
        store = await self._store(token)
        return await store.everyone(tenant_id, segment_id)

    async def _store(self, token: str | None) -> MembershipStore:
        await self._waiter.wait(token)
        if self._live is None:
            raise ServiceUnavailable("Segment membership is not configured.", retry_after=5)
        store = await within(self._read_timeout, self._live.current(), _WHAT)
        if not isinstance(store, MembershipStore):
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
