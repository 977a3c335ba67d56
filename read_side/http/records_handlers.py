"""Query endpoints for orders, payments, invoices, consents, export and the access audit."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import MediaType, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, HeaderParameter, QueryParameter

from read_side.http.params import Token
from read_side.records import CustomerRecords
from shared.export_signature import ExportSigner
from shared.http.auth import requires
from shared.http.conditional import NOT_MODIFIED, READ_HEADERS, IfNoneMatch, versioned
from shared.http.openapi import problems
from shared.http.types import HTTPRequest, HTTPResponse
from shared.json_types import JSONObject
from shared.principal import Permission, Principal

COMMERCE = "orders and payments"
# Reads that wait for `X-Consistency-Token`: a bad token is 400, a timed-out wait 503.
WAITING_READ_PROBLEMS = problems(400, 401, 403, 404, 429, 503)
VERSIONED_READ = WAITING_READ_PROBLEMS | NOT_MODIFIED
Records = NamedDependency[CustomerRecords]
CustomerId = FromPath[uuid.UUID]
Purpose = Annotated[
    str | None,
    HeaderParameter(
        name="X-Access-Purpose", required=False, max_length=100, description="Why (audit)."
    ),
]


def provide_records(request: HTTPRequest) -> CustomerRecords:
    """Set up by the composition root."""
    records: CustomerRecords = request.app.state.records
    return records


def _principal(request: HTTPRequest) -> Principal:
    principal = request.user
    assert isinstance(principal, Principal)
    return principal


@get(
    "/{customer_id:uuid}/orders", operation_id="listCustomerOrders", summary="Order history",
    tags=[COMMERCE], guards=[requires(Permission.READ)], responses=VERSIONED_READ,
    response_headers=READ_HEADERS,
)  # fmt: skip
async def customer_orders(
    request: HTTPRequest, customer_id: CustomerId, records: Records, token: Token = None,
    if_none_match: IfNoneMatch = None,
) -> HTTPResponse:  # fmt: skip
    """Newest first, each with the customer snapshot at order time."""
    read = await records.orders(_principal(request), str(customer_id), token)
    return versioned(read.body, read.version, if_none_match)


@get(
    "/{customer_id:uuid}/payments", operation_id="listCustomerPayments", summary="Payment history",
    tags=[COMMERCE], guards=[requires(Permission.READ)], responses=VERSIONED_READ,
    response_headers=READ_HEADERS,
)  # fmt: skip
async def customer_payments(
    request: HTTPRequest, customer_id: CustomerId, records: Records, token: Token = None,
    if_none_match: IfNoneMatch = None,
) -> HTTPResponse:  # fmt: skip
    """Newest first."""
    read = await records.payments(_principal(request), str(customer_id), token)
    return versioned(read.body, read.version, if_none_match)


@get(
    "/{customer_id:uuid}/billing", operation_id="getBillingDetails", summary="Billing details",
    tags=[COMMERCE], guards=[requires(Permission.READ)], responses=VERSIONED_READ,
    response_headers=READ_HEADERS,
)  # fmt: skip
async def customer_billing(
    request: HTTPRequest, customer_id: CustomerId, records: Records, token: Token = None,
    if_none_match: IfNoneMatch = None,
) -> HTTPResponse:  # fmt: skip
    """`{customerId, billing}` as `PUT` answered; 404 when none were set (a personal read,
    recorded in the access audit)."""
    read = await records.billing(_principal(request), str(customer_id), token)
    return versioned(read.body, read.version, if_none_match)


@get(
    "/{customer_id:uuid}/invoices", operation_id="listCustomerInvoices", summary="Invoices",
    tags=[COMMERCE], guards=[requires(Permission.READ)], responses=VERSIONED_READ,
    response_headers=READ_HEADERS,
)  # fmt: skip
async def customer_invoices(
    request: HTTPRequest, customer_id: CustomerId, records: Records, token: Token = None,
    if_none_match: IfNoneMatch = None,
) -> HTTPResponse:  # fmt: skip
    """`{items: [invoice]}`, newest first, each as `GET .../invoices/{number}` serves it (a
    personal read: the invoices name the billing details)."""
    read = await records.invoices(_principal(request), str(customer_id), token)
    return versioned(read.body, read.version, if_none_match)


@get(
    "/{customer_id:uuid}/invoices/{number:int}", operation_id="getInvoice",
    summary="An invoice as JSON, or a PDF with Accept: application/pdf", tags=[COMMERCE],
    guards=[requires(Permission.READ)], responses=WAITING_READ_PROBLEMS,
)  # fmt: skip
async def customer_invoice(
    request: HTTPRequest, customer_id: CustomerId, number: FromPath[int],
    records: Records, token: Token = None,
) -> HTTPResponse:  # fmt: skip
    """JSON by default; `Accept: application/pdf` renders the PDF."""
    invoice = await records.invoice(_principal(request), str(customer_id), number, token)
    if "application/pdf" in request.headers.get("accept", ""):
        from read_side.invoices.model import Invoice
        from read_side.invoices.pdf import render_invoice_pdf

        pdf = render_invoice_pdf(msgspec.convert(invoice, Invoice))
        disposition = f'inline; filename="invoice-{number}.pdf"'
        return Response(
            pdf, media_type="application/pdf", headers={"Content-Disposition": disposition}
        )
    return Response(invoice)


@get(
    "/{customer_id:uuid}/consents", operation_id="listConsents", summary="Consent per purpose",
    tags=["privacy"], guards=[requires(Permission.READ)], responses=VERSIONED_READ,
    response_headers=READ_HEADERS,
)  # fmt: skip
async def customer_consents(
    request: HTTPRequest, customer_id: CustomerId, records: Records, token: Token = None,
    if_none_match: IfNoneMatch = None,
) -> HTTPResponse:  # fmt: skip
    """`{items: [{purpose, granted, source, legalBasis, at, by}]}`."""
    read = await records.consents(_principal(request), str(customer_id), token)
    return versioned(read.body, read.version, if_none_match)


@get(
    "/{customer_id:uuid}/export", operation_id="exportCustomer", summary="GDPR data export",
    tags=["privacy"], guards=[requires(Permission.AUDIT)],
    responses=problems(400, 401, 403, 404, 429),
)  # fmt: skip
async def export_customer(
    request: HTTPRequest,
    customer_id: CustomerId,
    records: Records,
    purpose: Purpose = None,
) -> Response[JSONObject]:
    """Everything held about the customer as one JSON document; recorded in the access audit.
    It carries `signature: {alg: "Ed25519", publicKey, value}` (hex) over its canonical JSON
    (keys sorted, no spaces, UTF-8) without `signature`, served in exactly that form; check it
    offline with `customers audit verify-export FILE`."""
    document = await records.export(_principal(request), str(customer_id), purpose)
    signer: ExportSigner = request.app.state.export_signer
    signed: Any = signer.sign(document)
    disposition = f'attachment; filename="customer-{customer_id}.json"'
    return Response(signed, media_type=MediaType.JSON, headers={"Content-Disposition": disposition})


@get(
    "/audit/access", operation_id="listAccesses", summary="Who read which customer's personal data",
    tags=["privacy"], guards=[requires(Permission.AUDIT)],
    responses=problems(400, 401, 403, 429),
)  # fmt: skip
async def access_audit(
    request: HTTPRequest,
    records: Records,
    customer_id: Annotated[uuid.UUID, QueryParameter(name="customerId")],
) -> JSONObject:
    """Newest first: actor, time, action and purpose; never personal values."""
    return await records.accesses(_principal(request).tenant_id, str(customer_id))


RECORD_HANDLERS = [
    customer_billing,
    customer_orders,
    customer_payments,
    customer_invoices,
    customer_invoice,
    customer_consents,
    export_customer,
]


@get(
    "/audit/access/verify", operation_id="verifyAccesses",
    summary="Whether this tenant's access log is intact", tags=["privacy"],
    guards=[requires(Permission.AUDIT)], responses=problems(401, 403, 429, 503),
)  # fmt: skip
async def verify_access_audit(request: HTTPRequest, records: Records) -> JSONObject:
    """`{ok, entries, finding}`: the first entry modified, deleted or reordered by hand."""
    return await records.verify_accesses(_principal(request).tenant_id)


AUDIT_HANDLERS = [access_audit, verify_access_audit]
RECORD_DEPENDENCIES = {"records": Provide(provide_records, sync_to_thread=False)}
