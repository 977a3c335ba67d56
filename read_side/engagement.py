"""Reads of a customer's engagement: preferences, live notes, contactability."""

from __future__ import annotations

from read_side.contactability import Contactability, contactability
from read_side.queries import CustomerQueries
from read_side.records import CustomerRecords
from shared.clock import Clock, utc_now
from shared.engagement import Note, NotePage, Preferences, preferences_resource
from shared.errors import NotFound
from shared.principal import Principal


class EngagementReads:
    """Preferences and notes (personal reads, recorded in the access audit) and
    contactability (one read-model read; it discloses no personal value)."""

    def __init__(
        self, records: CustomerRecords, queries: CustomerQueries, clock: Clock = utc_now
    ) -> None:
        self._records = records
        self._queries = queries
        self._clock = clock

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
        """Whether each channel may carry a message for `purpose` now: the cache, else one
        read of the view store."""
        await self._queries.waiter.wait(token)
        doc = None if token else await self._queries.cache.get(tenant_id, customer_id)
        if doc is None:
            doc = await self._queries.document(tenant_id, customer_id)
            if doc is None:
                raise NotFound("No customer with this id.")
            await self._queries.cache.add(doc)
        return contactability(doc, purpose, self._clock())
