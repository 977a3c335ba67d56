"""Auditors' reads (audit permission): a customer's history and GDPR export, the access log of
personal data and its verification, the tamper-evident event log's verification, and the
security alerts."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, MediaType, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter, QueryParameter, SkipValidation

from read_side.alert_store import AlertStore
from read_side.chain import ChainCheck
from read_side.deadline import within
from read_side.queries import CustomerQueries
from read_side.records import CustomerRecords
from read_side.resources import (
    AccessEntries,
    AccessVerification,
    CustomerExport,
    CustomerHistory,
    SecurityAlerts,
)
from shared.export_signature import ExportSigner
from shared.http.auth import Caller, requires
from shared.http.openapi import problems
from shared.principal import Permission, Role
from shared.settings import Settings

Queries = NamedDependency[CustomerQueries]
Records = NamedDependency[CustomerRecords]
Signer = NamedDependency[ExportSigner]
# A protocol: Litestar cannot check an instance against it, so its value is not validated.
Alerts = NamedDependency[SkipValidation[AlertStore]]
Configuration = NamedDependency[Settings]
CustomerId = FromPath[uuid.UUID]
Purpose = Annotated[
    str | None,
    HeaderParameter(
        name="X-Access-Purpose", required=False, max_length=100, description="Why (audit)."
    ),
]
CustomerFilter = Annotated[
    uuid.UUID | None,
    QueryParameter(
        name="customerId",
        required=False,
        description="Only this customer's chain; without it the whole log (every tenant's).",
    ),
]
#: The export is served as the exact bytes its signature covers; this is their schema.
EXPORT_ANSWER = {
    200: ResponseSpec(
        data_container=CustomerExport,
        description="The signed export (canonical JSON: keys sorted, no spaces, UTF-8).",
        generate_examples=False,
    )
}


class CustomerAuditController(Controller):
    """A customer's history and GDPR export (audit permission)."""

    path = "/customers"
    guards = [requires(Permission.AUDIT)]

    @get(
        "/{customer_id:uuid}/history", tags=["customers: queries"],
        operation_id="getCustomerHistory",
        summary="A customer's events, oldest first, with field-level changes",
        responses=problems(400, 401, 403, 404, 429),
    )  # fmt: skip
    async def history(
        self, principal: Caller, customer_id: CustomerId, queries: Queries, records: Records,
        purpose: Purpose = None,
    ) -> CustomerHistory:  # fmt: skip
        """`{items: [{version, type, occurredAt, actor, changes: {field: {from, to}}}]}`."""
        items = await queries.history(principal.tenant_id, str(customer_id))
        await records.record_access(principal, str(customer_id), "history", purpose)
        return items

    @get(
        "/{customer_id:uuid}/export", operation_id="exportCustomer", summary="GDPR data export",
        tags=["privacy"], responses=problems(400, 401, 403, 404, 429) | EXPORT_ANSWER,
    )  # fmt: skip
    async def export_customer(
        self, principal: Caller, customer_id: CustomerId, records: Records,
        export_signer: Signer, purpose: Purpose = None,
    ) -> Response[bytes]:  # fmt: skip
        """Everything held about the customer as one JSON document; recorded in the access
        audit. It carries `signature: {alg: "Ed25519", publicKey, value}` (hex) over its
        canonical JSON (keys sorted, no spaces, UTF-8) without `signature`, served in exactly
        that form; check it offline with `customers audit verify-export FILE`."""
        document = await records.export(principal, str(customer_id), purpose)
        disposition = f'attachment; filename="customer-{customer_id}.json"'
        return Response(
            export_signer.sign(document),
            media_type=MediaType.JSON,
            headers={"Content-Disposition": disposition},
        )


class AuditController(Controller):
    """The access log, the event log's verification and security alerts (audit permission).

    The event log's verification answers verdicts, positions, versions and ids only — no
    personal value — so it is not an access to personal data and leaves no access entry.
    """

    path = "/audit"
    tags = ["privacy"]
    guards = [requires(Permission.AUDIT)]

    @get(
        "/access", operation_id="listAccesses",
        summary="Who read which customer's personal data", responses=problems(400, 401, 403, 429),
    )  # fmt: skip
    async def access_audit(
        self,
        principal: Caller,
        records: Records,
        customer_id: Annotated[uuid.UUID, QueryParameter(name="customerId")],
    ) -> AccessEntries:
        """Newest first: actor, time, action and purpose; never personal values."""
        return await records.accesses(principal.tenant_id, str(customer_id))

    @get(
        "/access/verify", operation_id="verifyAccesses",
        summary="Whether this tenant's access log is intact",
        responses=problems(401, 403, 429, 503),
    )  # fmt: skip
    async def verify_access_audit(self, principal: Caller, records: Records) -> AccessVerification:
        """`{ok, entries, finding}`: the first entry modified, deleted or reordered by hand."""
        return await records.verify_accesses(principal.tenant_id)

    @get(
        "/verify", operation_id="verifyEventLog",
        summary="Verify the tamper-evident event log: the first event changed by hand, if any",
        responses=problems(400, 401, 403, 404, 429),
    )  # fmt: skip
    async def verify_event_log(
        self, principal: Caller, queries: Queries, customer_id: CustomerFilter = None
    ) -> ChainCheck:
        """`{ok, scope, verified, checkpoints, firstBroken: {kind, position, customerId,
        version, detail} | null}`; `kind` is modified, deleted, reordered or inserted. A break
        in another tenant's customer is reported without its `customerId`."""
        wanted = None if customer_id is None else str(customer_id)
        return await queries.verify_chain(principal.tenant_id, wanted)

    @get(
        "/alerts", operation_id="listSecurityAlerts", summary="Security alerts",
        responses=problems(400, 401, 403, 429, 503),
    )  # fmt: skip
    async def security_alerts(
        self, principal: Caller, alerts: Alerts, settings: Configuration,
        limit: Annotated[int, QueryParameter(required=False, ge=1, le=500)] = 100,
    ) -> SecurityAlerts:  # fmt: skip
        """Newest first: `{items: [{id, kind, at, subject, clientAddress, tenant, count,
        detail}]}`. An alert about a subject of the caller's tenant is shown to its auditors;
        one about an unauthenticated client (no tenant) to every tenant's admins."""
        admin = Role.ADMIN in principal.roles
        recent = alerts.recent(principal.tenant_id, admin, limit)
        items = await within(settings.service_timeout_seconds, recent, "the alert store")
        return msgspec.convert({"items": items}, SecurityAlerts)
