"""Commerce commands (write permission): an order's attendees to customers, billing details,
invoices. Each answers the record it changed, typed (`shared.record_resources`)."""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from shared.errors import FieldError, MalformedRequest
from shared.http.auth import Caller, requires
from shared.http.openapi import problems
from shared.http.types import HTTPRequest
from shared.principal import Permission
from shared.record_resources import BillingDetails, CustomerBilling, Invoice
from write_side.application.attendees import AttendeeInput, AttendeeProcessing
from write_side.application.commerce import CommerceCommands
from write_side.http.command_support import (
    CustomerId,
    IdempotencyKey,
    IfMatch,
    command_meta,
    record_headers,
)
from write_side.http.integration_schemas import AttendeesBody, BillingBody, InvoiceBody

Commerce = NamedDependency[CommerceCommands]
# Not "attendees": Litestar reports a body error on a field named like a dependency as a 500.
Attendees = NamedDependency[AttendeeProcessing]


class AttendeeResult(msgspec.Struct, rename="camel", kw_only=True):
    """What became of one attendee: the customer matched (`matchedBy` email or phone) or
    created, and whether this order is that customer's first visit."""

    customer_id: str
    created: bool
    first_time: bool
    matched_by: str | None


class AttendeeResults(msgspec.Struct):
    """One result per attendee, in the order they were sent."""

    results: list[AttendeeResult]


class CommerceCommandController(Controller):
    """Orders' attendees, billing details and invoices (write permission)."""

    path = "/customers"
    tags = ["orders and payments"]
    guards = [requires(Permission.WRITE)]

    @post(
        "/attendees", operation_id="processAttendees", summary="Attendees to customers",
        status_code=200, responses=problems(400, 401, 403, 409, 422, 429),
    )  # fmt: skip
    async def process_attendees(
        self, request: HTTPRequest, principal: Caller, data: JSONBody[AttendeesBody],
        attendee_processing: Attendees,
    ) -> AttendeeResults:  # fmt: skip
        """One result per attendee, in order. Idempotent per `orderId`."""
        if not data.order_id.strip() or len(data.order_id) > 200:
            raise MalformedRequest(
                "orderId is required.", errors=[FieldError("orderId", "1-200 characters")]
            )
        if not 1 <= len(data.attendees) <= 100:
            raise MalformedRequest(
                "1-100 attendees.", errors=[FieldError("attendees", "1-100 items")]
            )
        meta = await command_meta(request, principal, None)
        inputs = [
            AttendeeInput(a.first_name, a.last_name, a.email, a.phone, a.phone_region)
            for a in data.attendees
        ]
        order_id = data.order_id.strip()
        results = await attendee_processing.process(meta, order_id, data.placed_at, inputs)
        return AttendeeResults(results=msgspec.convert(results, list[AttendeeResult]))

    @put(
        "/{customer_id:uuid}/billing", operation_id="setBillingDetails",
        summary="Set billing details", responses=problems(400, 401, 403, 404, 409, 412, 422, 429),
    )  # fmt: skip
    async def set_billing(
        self, request: HTTPRequest, principal: Caller, customer_id: CustomerId,
        data: JSONBody[BillingBody], commerce: Commerce, if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CustomerBilling]:  # fmt: skip
        """Replace the billing details: `name`, `email`, `taxId`, `address`."""
        meta = await command_meta(request, principal, idempotency_key, if_match)
        outcome = await commerce.set_billing(meta, customer_id, data.to_dict())
        billing = msgspec.convert(msgspec.to_builtins(outcome.customer.billing), BillingDetails)
        body = CustomerBilling(customer_id=str(customer_id), billing=billing)
        return Response(body, headers=record_headers(outcome.customer.version, outcome.position))

    @post(
        "/{customer_id:uuid}/invoices", operation_id="issueInvoice", summary="Issue an invoice",
        status_code=201, responses=problems(400, 401, 403, 404, 409, 422, 429),
    )  # fmt: skip
    async def issue_invoice(
        self, request: HTTPRequest, principal: Caller, customer_id: CustomerId,
        commerce: Commerce, idempotency_key: IdempotencyKey = None,
        data: JSONBody[InvoiceBody | None] = None,
    ) -> Response[Invoice]:  # fmt: skip
        """Numbers are sequential per tenant, never reused; refunds are negative lines. One
        currency per invoice: body `{"currency": "USD"}` picks it (needed when payments in
        several currencies wait; 409 lists them in `currencies`)."""
        meta = await command_meta(request, principal, idempotency_key)
        currency = data.currency if data is not None else None
        outcome = await commerce.issue_invoice(meta, customer_id, currency)
        invoice = msgspec.convert(msgspec.to_builtins(outcome.answer()), Invoice)
        headers = record_headers(outcome.customer.version, outcome.position)
        headers["Location"] = f"/customers/{customer_id}/invoices/{invoice.number}"
        return Response(invoice, status_code=201, headers=headers)
