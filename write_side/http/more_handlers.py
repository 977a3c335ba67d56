"""Command endpoints for orders, billing, invoices, consents and erasure."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Response, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from shared.errors import FieldError, MalformedRequest
from shared.http.auth import requires
from shared.http.openapi import problems
from shared.http.types import HTTPRequest
from shared.json_types import JSONObject
from shared.principal import Permission
from shared.resources import CustomerResource
from write_side.application.attendees import AttendeeInput, AttendeeProcessing
from write_side.application.commerce import CommerceCommands
from write_side.application.privacy import PrivacyCommands
from write_side.http.controller import (
    IdempotencyKey,
    IfMatch,
    Reason,
    ReasonData,
    check_reason,
    command_meta,
    respond,
)
from write_side.http.integration_schemas import (
    AttendeesBody,
    BillingBody,
    ConsentBody,
    InvoiceBody,
)

Commerce = NamedDependency[CommerceCommands]
Privacy = NamedDependency[PrivacyCommands]
Attendees = NamedDependency[AttendeeProcessing]
CustomerId = FromPath[uuid.UUID]
Purpose = Annotated[str, FromPath]


def provide(name: str) -> Provide:
    """A dependency provider reading `app.state.<name>` (set by the composition root)."""

    def read(request: HTTPRequest) -> Any:
        return getattr(request.app.state, name)

    return Provide(read, sync_to_thread=False)


def _headers(version: int, position: int) -> dict[str, str]:
    return {"ETag": f'"{version}"', "X-Consistency-Token": str(position)}


@post(
    "/attendees", operation_id="processAttendees", summary="Attendees to customers",
    tags=["orders and payments"], guards=[requires(Permission.WRITE)], status_code=200,
    responses=problems(400, 401, 403, 409, 422, 429),
)  # fmt: skip
async def process_attendees(
    request: HTTPRequest, data: JSONBody[AttendeesBody], attendee_processing: Attendees
) -> JSONObject:
    """One result per attendee, in order. Idempotent per `orderId`."""
    if not data.order_id.strip() or len(data.order_id) > 200:
        raise MalformedRequest(
            "orderId is required.", errors=[FieldError("orderId", "1-200 characters")]
        )
    if not 1 <= len(data.attendees) <= 100:
        raise MalformedRequest("1-100 attendees.", errors=[FieldError("attendees", "1-100 items")])
    meta = await command_meta(request, None)
    inputs = [
        AttendeeInput(a.first_name, a.last_name, a.email, a.phone, a.phone_region)
        for a in data.attendees
    ]
    results = await attendee_processing.process(meta, data.order_id.strip(), data.placed_at, inputs)
    return {"results": results}


@put(
    "/{customer_id:uuid}/billing", operation_id="setBillingDetails", summary="Set billing details",
    tags=["orders and payments"], guards=[requires(Permission.WRITE)],
    responses=problems(400, 401, 403, 404, 409, 412, 422, 429),
)  # fmt: skip
async def set_billing(
    request: HTTPRequest, customer_id: CustomerId, data: JSONBody[BillingBody],
    commerce: Commerce, if_match: IfMatch = None, idempotency_key: IdempotencyKey = None,
) -> Response[JSONObject]:  # fmt: skip
    """Replace the billing details: `name`, `email`, `taxId`, `address`."""
    meta = await command_meta(request, idempotency_key, if_match)
    outcome = await commerce.set_billing(meta, customer_id, data.to_dict())
    body = {"customerId": str(customer_id), "billing": outcome.customer.billing}
    return Response(body, headers=_headers(outcome.customer.version, outcome.position))


@post(
    "/{customer_id:uuid}/invoices", operation_id="issueInvoice", summary="Issue an invoice",
    tags=["orders and payments"], guards=[requires(Permission.WRITE)], status_code=201,
    responses=problems(400, 401, 403, 404, 409, 422, 429),
)  # fmt: skip
async def issue_invoice(
    request: HTTPRequest, customer_id: CustomerId, commerce: Commerce,
    idempotency_key: IdempotencyKey = None, data: JSONBody[InvoiceBody | None] = None,
) -> Response[JSONObject]:  # fmt: skip
    """Numbers are sequential per tenant, never reused; refunds are negative lines. One
    currency per invoice: body `{"currency": "USD"}` picks it (needed when payments in
    several currencies wait; 409 lists them in `currencies`)."""
    meta = await command_meta(request, idempotency_key)
    currency = data.currency if data is not None else None
    outcome = await commerce.issue_invoice(meta, customer_id, currency)
    invoice = outcome.answer()
    headers = _headers(outcome.customer.version, outcome.position)
    headers["Location"] = f"/customers/{customer_id}/invoices/{invoice['number']}"
    return Response(invoice, status_code=201, headers=headers)


@put(
    "/{customer_id:uuid}/consents/{purpose:str}", operation_id="setConsent",
    summary="Grant or withdraw consent for a purpose", tags=["privacy"],
    guards=[requires(Permission.WRITE)], responses=problems(400, 401, 403, 404, 409, 412, 422, 429),
)  # fmt: skip
async def set_consent(
    request: HTTPRequest, customer_id: CustomerId, purpose: Purpose,
    data: JSONBody[ConsentBody], privacy: Privacy, if_match: IfMatch = None,
) -> Response[JSONObject]:  # fmt: skip
    """Body `{granted, source, legalBasis}`; each change is an event with time and actor."""
    meta = await command_meta(request, None, if_match)
    outcome = await privacy.change_consent(
        meta,
        customer_id,
        purpose,
        granted=data.granted,
        source=data.source,
        legal_basis=data.legal_basis,
    )
    body = {"purpose": purpose, **msgspec.to_builtins(outcome.customer.consents[purpose])}
    return Response(body, headers=_headers(outcome.customer.version, outcome.position))


@post(
    "/{customer_id:uuid}/erase", operation_id="eraseCustomer", summary="Right to erasure",
    tags=["privacy"], guards=[requires(Permission.ERASE)], status_code=200,
    responses=problems(400, 401, 403, 404, 422, 429),
)  # fmt: skip
async def erase_customer(
    request: HTTPRequest,
    customer_id: CustomerId,
    privacy: Privacy,
    reason: Reason = None,
    data: ReasonData = None,
) -> Response[CustomerResource]:
    """Personal data becomes unreadable everywhere (crypto-shredding); state `erased`."""
    meta = await command_meta(request, None)
    return respond(await privacy.erase(meta, customer_id, check_reason(reason, data)))


MORE_COMMAND_HANDLERS = [process_attendees, set_billing, issue_invoice, set_consent, erase_customer]
MORE_COMMAND_DEPENDENCIES = {
    "commerce": provide("commerce"),
    "privacy": provide("privacy"),
    # Not "attendees": Litestar reports a body error on a field named like a dependency as a 500.
    "attendee_processing": provide("attendees"),
}
