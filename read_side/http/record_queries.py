"""A customer's records (read permission): orders, payments, billing details, invoices (JSON
or PDF) and consents. Each is a read of personal data, recorded in the access audit, and
carries the customer version it reflects as its ETag (304 to a matching `If-None-Match`)."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath

from read_side.http.params import Token
from read_side.records import CustomerRecords
from shared.http.auth import Caller, requires
from shared.http.conditional import NOT_MODIFIED, READ_HEADERS, IfNoneMatch, versioned
from shared.http.openapi import problems
from shared.http.types import HTTPRequest, HTTPResponse
from shared.principal import Permission
from shared.record_resources import Consents, CustomerBilling, Invoice, Invoices, Orders, Payments

COMMERCE = ["orders and payments"]
# Reads that wait for `X-Consistency-Token`: a bad token is 400, a timed-out wait 503.
WAITING_READ_PROBLEMS = problems(400, 401, 403, 404, 429, 503)
VERSIONED_READ = WAITING_READ_PROBLEMS | NOT_MODIFIED
#: The JSON answer; `Accept: application/pdf` gets the PDF (the document adds that content).
INVOICE_ANSWER = {
    200: ResponseSpec(
        data_container=Invoice,
        description="The invoice as JSON, or as a PDF with `Accept: application/pdf`.",
        generate_examples=False,
    )
}
Records = NamedDependency[CustomerRecords]
CustomerId = FromPath[uuid.UUID]


class RecordQueryController(Controller):
    """Orders, payments, billing details, invoices and consents of one customer."""

    path = "/customers"
    guards = [requires(Permission.READ)]

    @get(
        "/{customer_id:uuid}/orders", operation_id="listCustomerOrders", summary="Order history",
        tags=COMMERCE, responses=VERSIONED_READ, response_headers=READ_HEADERS,
    )  # fmt: skip
    async def customer_orders(
        self, principal: Caller, customer_id: CustomerId, records: Records, token: Token = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response[Orders]:  # fmt: skip
        """Newest first, each with the customer snapshot at order time."""
        read = await records.orders(principal, str(customer_id), token)
        return versioned(read.body, read.version, if_none_match)

    @get(
        "/{customer_id:uuid}/payments", operation_id="listCustomerPayments",
        summary="Payment history", tags=COMMERCE, responses=VERSIONED_READ,
        response_headers=READ_HEADERS,
    )  # fmt: skip
    async def customer_payments(
        self, principal: Caller, customer_id: CustomerId, records: Records, token: Token = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response[Payments]:  # fmt: skip
        """Newest first."""
        read = await records.payments(principal, str(customer_id), token)
        return versioned(read.body, read.version, if_none_match)

    @get(
        "/{customer_id:uuid}/billing", operation_id="getBillingDetails", summary="Billing details",
        tags=COMMERCE, responses=VERSIONED_READ, response_headers=READ_HEADERS,
    )  # fmt: skip
    async def customer_billing(
        self, principal: Caller, customer_id: CustomerId, records: Records, token: Token = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response[CustomerBilling]:  # fmt: skip
        """`{customerId, billing}` as `PUT` answered; 404 when none were set (a personal read,
        recorded in the access audit)."""
        read = await records.billing(principal, str(customer_id), token)
        return versioned(read.body, read.version, if_none_match)

    @get(
        "/{customer_id:uuid}/invoices", operation_id="listCustomerInvoices", summary="Invoices",
        tags=COMMERCE, responses=VERSIONED_READ, response_headers=READ_HEADERS,
    )  # fmt: skip
    async def customer_invoices(
        self, principal: Caller, customer_id: CustomerId, records: Records, token: Token = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response[Invoices]:  # fmt: skip
        """`{items: [invoice]}`, newest first, each as `GET .../invoices/{number}` serves it (a
        personal read: the invoices name the billing details)."""
        read = await records.invoices(principal, str(customer_id), token)
        return versioned(read.body, read.version, if_none_match)

    @get(
        "/{customer_id:uuid}/invoices/{number:int}", operation_id="getInvoice",
        summary="An invoice as JSON, or a PDF with Accept: application/pdf", tags=COMMERCE,
        responses=WAITING_READ_PROBLEMS | INVOICE_ANSWER,
    )  # fmt: skip
    async def customer_invoice(
        self, request: HTTPRequest, principal: Caller, customer_id: CustomerId,
        number: FromPath[int], records: Records, token: Token = None,
    ) -> HTTPResponse:  # fmt: skip
        """JSON by default; `Accept: application/pdf` renders the PDF."""
        invoice = await records.invoice(principal, str(customer_id), number, token)
        if "application/pdf" in request.headers.get("accept", ""):
            from read_side.invoices.pdf import render_invoice_pdf

            disposition = f'inline; filename="invoice-{number}.pdf"'
            return Response(
                render_invoice_pdf(invoice),
                media_type="application/pdf",
                headers={"Content-Disposition": disposition},
            )
        return Response(invoice)

    @get(
        "/{customer_id:uuid}/consents", operation_id="listConsents",
        summary="Consent per purpose", tags=["privacy"], responses=VERSIONED_READ,
        response_headers=READ_HEADERS,
    )  # fmt: skip
    async def customer_consents(
        self, principal: Caller, customer_id: CustomerId, records: Records, token: Token = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response[Consents]:  # fmt: skip
        """`{items: [{purpose, granted, source, legalBasis, at, by}]}`."""
        read = await records.consents(principal, str(customer_id), token)
        return versioned(read.body, read.version, if_none_match)
