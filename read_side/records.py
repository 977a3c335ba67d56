"""Per-customer records: orders, payments, invoices, consents, GDPR export, access audit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, NamedTuple, TypeVar

import msgspec

from read_side import loyalty_view
from read_side.access_audit import AccessAudit, AccessRecord
from read_side.deadline import within
from read_side.engagement_views import all_communications, all_notes
from read_side.history import history_items
from read_side.queries import CustomerQueries
from read_side.resources import AccessEntries, AccessVerification, CustomerExport
from read_side.views import CustomerDoc, evolve, to_resource
from shared.clock import Clock, iso_utc, utc_now
from shared.engagement import default_preferences
from shared.errors import FieldError, MalformedRequest, NotFound
from shared.json_types import JSONObject
from shared.principal import Principal
from shared.record_resources import (
    Consents,
    CustomerBilling,
    Invoice,
    Invoices,
    Orders,
    Payments,
)

Body = TypeVar("Body", bound=msgspec.Struct)


class Versioned(NamedTuple, Generic[Body]):
    """A read's body and the customer version it reflects (the ETag)."""

    body: Body
    version: int


#: The most customer ids one access entry names: FerretDB indexes the id array as one btree
#: row of at most ~2.7 KB (about 60 ids), so a page of 100 is recorded as several entries.
LIST_ENTRY_IDS = 40


class CustomerRecords:
    """Reads that expose a customer's commercial and privacy records."""

    def __init__(
        self, queries: CustomerQueries, audit: AccessAudit, clock: Clock = utc_now
    ) -> None:
        self._queries = queries
        self.audit = audit
        self._clock = clock
        # Told how many customer records each list page or export disclosed (bulk-read alerts).
        self.on_read: Callable[[Principal, int], Awaitable[None]] | None = None

    async def _doc(self, tenant_id: str, customer_id: str, token: str | None) -> CustomerDoc:
        await self._queries.waiter.wait(token)
        doc: CustomerDoc | None = await self._queries.document(tenant_id, customer_id)
        if doc is None:
            raise NotFound("No customer with this id.")
        return doc

    async def read(
        self, principal: Principal, customer_id: str, token: str | None, action: str
    ) -> CustomerDoc:
        """The document, and the access recorded once it was found (a 404 reads nothing)."""
        doc = await self._doc(principal.tenant_id, customer_id, token)
        await self.record_access(principal, customer_id, action, None)
        return doc

    async def orders(
        self, principal: Principal, customer_id: str, token: str | None
    ) -> Versioned[Orders]:
        """Order history, newest first, with the customer snapshot at order time."""
        doc = await self.read(principal, customer_id, token, "orders")
        items = sorted(
            (doc.get("orders") or {}).values(), key=lambda o: o["placedAt"], reverse=True
        )
        return Versioned(msgspec.convert({"items": items}, Orders), doc["version"])

    async def payments(
        self, principal: Principal, customer_id: str, token: str | None
    ) -> Versioned[Payments]:
        """Payment history, newest first."""
        doc = await self.read(principal, customer_id, token, "payments")
        items = sorted((doc.get("payments") or {}).values(), key=lambda p: p["at"], reverse=True)
        return Versioned(msgspec.convert({"items": items}, Payments), doc["version"])

    async def consents(
        self, principal: Principal, customer_id: str, token: str | None
    ) -> Versioned[Consents]:
        """Current consent per purpose."""
        doc = await self.read(principal, customer_id, token, "consents")
        items = [{"purpose": p, **c} for p, c in sorted((doc.get("consents") or {}).items())]
        return Versioned(msgspec.convert({"items": items}, Consents), doc["version"])

    async def billing(
        self, principal: Principal, customer_id: str, token: str | None
    ) -> Versioned[CustomerBilling]:
        """The billing details, as `PUT .../billing` answered; 404 when none were set."""
        doc = await self._doc(principal.tenant_id, customer_id, token)
        billing = doc.get("billing")
        if not billing:
            raise NotFound("The customer has no billing details.")
        await self.record_access(principal, customer_id, "billing", None)
        body = {"customerId": customer_id, "billing": billing}
        return Versioned(msgspec.convert(body, CustomerBilling), doc["version"])

    async def invoices(
        self, principal: Principal, customer_id: str, token: str | None
    ) -> Versioned[Invoices]:
        """Every invoice of the customer, newest first (numbers grow with time per tenant).
        They name the billing details: a personal read, recorded like the others."""
        doc = await self.read(principal, customer_id, token, "invoices")
        items = sorted(
            (doc.get("invoices") or {}).values(), key=lambda i: int(i["number"]), reverse=True
        )
        return Versioned(msgspec.convert({"items": items}, Invoices), doc["version"])

    async def invoice(
        self, principal: Principal, customer_id: str, number: int, token: str | None
    ) -> Invoice:
        """One invoice of this customer (it names the billing details: a personal read)."""
        doc = await self._doc(principal.tenant_id, customer_id, token)
        invoice = (doc.get("invoices") or {}).get(str(number))
        if invoice is None:
            raise NotFound("No invoice with this number for this customer.")
        await self.record_access(principal, customer_id, "invoice", None)
        return msgspec.convert(invoice, Invoice)

    async def loyalty(
        self, principal: Principal, customer_id: str, token: str | None, cursor: str | None,
        limit: int,
    ) -> JSONObject:  # fmt: skip
        """Balance, lifetime points, tier, what expires when, and a page of entries (newest
        first). Entry reasons are personal: the read is recorded in the access audit."""
        doc = await self.read(principal, customer_id, token, "loyalty")
        try:
            page = loyalty_view.entries_page(doc, cursor, limit)
        except loyalty_view.BadCursor:
            raise MalformedRequest(
                "Invalid cursor.", errors=[FieldError("cursor", "not a cursor of this list")]
            ) from None
        entries = {"items": page.items, "nextCursor": page.next_cursor}
        return {**loyalty_view.summary(doc), "entries": entries}

    async def export(
        self, principal: Principal, customer_id: str, purpose: str | None
    ) -> CustomerExport:
        """Everything held about the customer, rebuilt from its event stream (portability):
        deleted notes and every communication included."""
        events = await self._queries.events(principal.tenant_id, customer_id)
        doc: CustomerDoc | None = None
        for event in [*events, *await self._queries.ledger_events(customer_id)]:
            doc = evolve(doc, event)
        assert doc is not None
        await self.record_access(principal, customer_id, "export", purpose)
        if self.on_read is not None:
            await self.on_read(principal, 1)
        document = {
            "exportedAt": iso_utc(self._clock()),
            "customer": to_resource(doc),
            "billing": doc.get("billing"),
            "consents": doc.get("consents") or {},
            "orders": list((doc.get("orders") or {}).values()),
            "payments": list((doc.get("payments") or {}).values()),
            "invoices": list((doc.get("invoices") or {}).values()),
            "loyalty": loyalty_view.export(doc),
            "preferences": doc.get("preferences") or default_preferences(),
            "notes": all_notes(events),
            "communications": all_communications(events),
            "history": history_items(events),
        }
        return msgspec.convert(document, CustomerExport)

    async def record_access(
        self, principal: Principal, customer_id: str, action: str, purpose: str | None
    ) -> None:
        """Log a read of personal data (ids, actor, time and purpose only)."""
        entry = self._entry(principal, action, purpose)
        await self._store(entry | {"customerId": customer_id})

    def _entry(self, principal: Principal, action: str, purpose: str | None) -> AccessRecord:
        return {
            "tenantId": principal.tenant_id,
            "actor": principal.subject,
            "roles": sorted(role.value for role in principal.roles),
            "at": iso_utc(self._clock()),
            "action": action,
            "purpose": purpose or _DEFAULT_PURPOSES.get(action, "service"),
        }

    async def record_list(
        self, principal: Principal, customer_ids: list[str], action: str = "list"
    ) -> None:
        """Log a list page (or another read naming several customers, such as duplicate
        suggestions) as entries naming every customer it showed, at most `LIST_ENTRY_IDS` per
        entry (none: nothing)."""
        if customer_ids:
            entry = self._entry(principal, action, None)
            parts = [
                customer_ids[start : start + LIST_ENTRY_IDS]
                for start in range(0, len(customer_ids), LIST_ENTRY_IDS)
            ]
            await asyncio.gather(
                *(
                    self._store(entry | {"customerId": None, "customerIds": p, "count": len(p)})
                    for p in parts
                )
            )
            if self.on_read is not None:
                await self.on_read(principal, len(customer_ids))

    async def record_bulk_export(
        self, principal: Principal, count: int, position: int, purpose: str | None
    ) -> None:
        """Log a bulk export as one entry with its count and snapshot position (naming 100,000
        ids in one entry would hold them all in memory; the count and the position say what was
        disclosed: every matching customer as of that position)."""
        entry = self._entry(principal, "bulkExport", purpose)
        await self._store(entry | {"customerId": None, "count": count, "position": position})
        if self.on_read is not None and count:
            await self.on_read(principal, count)

    async def _store(self, entry: AccessRecord) -> None:
        # Fails closed: personal data is not disclosed while its access cannot be recorded.
        await within(self._queries.timeout, self.audit.record(entry), "the access audit")

    async def accesses(self, tenant_id: str, customer_id: str) -> AccessEntries:
        """Who read or exported the customer's personal data, newest first."""
        items = await within(
            self._queries.timeout, self.audit.list(tenant_id, customer_id), "the access audit"
        )
        return msgspec.convert({"items": items}, AccessEntries)

    async def verify_accesses(self, tenant_id: str) -> AccessVerification:
        """Whether the tenant's access log is intact (`{ok, entries, finding}`)."""
        report = await within(
            self._queries.timeout * 10, self.audit.verify(tenant_id), "the access audit"
        )
        return msgspec.convert(report.as_dict(), AccessVerification)


_DEFAULT_PURPOSES = {
    "read": "service",
    "history": "audit",
    "asOf": "audit",
    "export": "data-portability",
    "bulkExport": "bulk-export",
}
