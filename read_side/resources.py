"""What the read side answers, typed: a page of customers, a customer's history, the GDPR
export, the access audit and the security alerts (JSON, camelCase).

The HTTP layer returns these Structs, so the OpenAPI document states each response's exact
schema (a test walks it: no 2xx JSON body is an untyped object). The use cases build them from
the read model's documents with `msgspec.convert`, which checks the documents against them.
"""

from __future__ import annotations

import msgspec
from msgspec import UNSET, UnsetType

from read_side.chain import ChainCheck
from shared.engagement import Note, Preferences
from shared.loyalty_resources import ExpiringPoints, LoyaltyEntry
from shared.record_resources import BillingDetails, ConsentState, Invoice, Order, Payment
from shared.resources import CustomerResource


class CustomerPage(msgspec.Struct, rename="camel", kw_only=True):
    """`GET /customers`: a page in sort order; `nextCursor` null on the last page."""

    items: list[CustomerResource]
    total: int
    next_cursor: str | None


class FieldChange(msgspec.Struct, kw_only=True):
    """A field's value before and after an event. Values are whatever JSON the field holds (a
    name, a tag list, the attributes, the billing details…), so they are left open: `object`,
    an empty schema in the OpenAPI document."""

    before: object = msgspec.field(name="from")
    after: object = msgspec.field(name="to")


class HistoryItem(msgspec.Struct, rename="camel", kw_only=True):
    """One event of a customer's stream, with its field-level changes and its hash in the
    tamper-evident log (null for an event stored before the log was chained)."""

    version: int
    type: str
    occurred_at: str
    actor: str | None
    changes: dict[str, FieldChange]
    hash: str | None


class CustomerHistory(msgspec.Struct, kw_only=True):
    """`GET /customers/{id}/history`: oldest first; `chain` says whether the customer's chain
    verifies (absent where the event log is not verifiable)."""

    items: list[HistoryItem]
    chain: ChainCheck | UnsetType = UNSET


class ExportSignature(msgspec.Struct, rename="camel", kw_only=True):
    """Ed25519 over the canonical JSON of the export without `signature` (hex)."""

    alg: str
    public_key: str
    value: str


class LoyaltyRecord(msgspec.Struct, rename="camel", kw_only=True):
    """The customer's loyalty account in an export: the summary and every entry."""

    balance: int
    lifetime_points: int
    tier: str | None
    expiring: list[ExpiringPoints]
    entries: list[LoyaltyEntry]


class ExportedNote(Note, rename="camel", kw_only=True):
    """A note in an export, deleted ones with the time they were deleted."""

    deleted_at: str | None = None


#: A communication in an export: every recorded field by its API name (text or null each).
ExportedCommunication = dict[str, str | None]


class CustomerExport(msgspec.Struct, rename="camel", kw_only=True):
    """`GET /customers/{id}/export`: everything held about the customer (GDPR portability)."""

    exported_at: str
    customer: CustomerResource
    billing: BillingDetails | None
    consents: dict[str, ConsentState]
    orders: list[Order]
    payments: list[Payment]
    invoices: list[Invoice]
    loyalty: LoyaltyRecord
    preferences: Preferences
    notes: list[ExportedNote]
    communications: list[ExportedCommunication]
    history: list[HistoryItem]
    signature: ExportSignature | UnsetType = UNSET


class AccessEntry(msgspec.Struct, rename="camel", kw_only=True):
    """One read of personal data: who, when, what and why, never a personal value. A list page's
    entries name every customer it showed, at most 40 each (`customerIds`, `count`;
    `customerId` null)."""

    tenant_id: str
    actor: str
    roles: list[str]
    at: str
    action: str
    purpose: str
    customer_id: str | None
    customer_ids: list[str] | UnsetType = UNSET
    count: int | UnsetType = UNSET
    seq: int
    hash: str


class AccessEntries(msgspec.Struct):
    """`GET /audit/access`: newest first."""

    items: list[AccessEntry]


class AccessFinding(msgspec.Struct, rename="camel", kw_only=True):
    """The first access entry found wrong (`kind`: modified, deleted or reordered)."""

    kind: str
    tenant_id: str
    seq: int
    detail: str


class AccessVerification(msgspec.Struct, kw_only=True):
    """`GET /audit/access/verify`: whether the tenant's access log is intact."""

    ok: bool
    entries: int
    finding: AccessFinding | None


class SecurityAlert(msgspec.Struct, rename="camel", kw_only=True):
    """One security alert: ids, addresses and counts only."""

    id: str
    kind: str
    at: str
    subject: str | None
    client_address: str | None
    tenant: str | None
    count: int
    detail: str


class SecurityAlerts(msgspec.Struct):
    """`GET /audit/alerts`: newest first."""

    items: list[SecurityAlert]
