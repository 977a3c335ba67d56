"""`/customers` commands: create and update (write permission), soft-delete and restore
(delete permission). Thin adapters from HTTP to `CustomerCommands`."""

from __future__ import annotations

from litestar import Controller, HttpMethod, Response, delete, post, route
from litestar.di import NamedDependency
from litestar.params import JSONBody

from shared.http.auth import Caller, requires
from shared.http.openapi import COMMAND_HEADERS, CREATED_HEADERS, problems
from shared.http.types import HTTPRequest
from shared.principal import Permission
from shared.resources import CustomerResource
from write_side.application.commands import CustomerCommands
from write_side.application.decisions import Outcome
from write_side.http.command_support import (
    CustomerId,
    IdempotencyKey,
    IfMatch,
    Reason,
    ReasonData,
    check_reason,
    command_meta,
    respond,
)
from write_side.http.schemas import CustomerWrite

Commands = NamedDependency[CustomerCommands]
TAGS = ["customers: commands"]
#: What a state change (delete, restore) may answer besides its 200.
STATE_CHANGE_PROBLEMS = problems(400, 401, 403, 404, 409, 412, 422, 429)


def _update_operation_id(_handler: object, method: object, _path: object) -> str:
    """Distinct OpenAPI operation ids for the two methods of one update handler."""
    return "patchCustomer" if str(method).upper().endswith("PATCH") else "replaceCustomerFields"


class CustomerCommandController(Controller):
    """Create and update customers (write permission)."""

    path = "/customers"
    tags = TAGS
    guards = [requires(Permission.WRITE)]

    @post(
        "/",
        operation_id="createCustomer",
        summary="Create a customer",
        status_code=201,
        response_headers=CREATED_HEADERS,
        responses=problems(400, 401, 403, 409, 422, 429),
    )
    async def create(
        self,
        request: HTTPRequest,
        principal: Caller,
        data: JSONBody[CustomerWrite],
        commands: Commands,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CustomerResource]:
        """Create a customer. `type` defaults to `unregistered`."""
        meta = await command_meta(request, principal, idempotency_key)
        outcome = await commands.create(meta, data.to_input())
        return respond(outcome, location=outcome.outcome is Outcome.CREATED)

    @route(
        "/{customer_id:uuid}",
        http_method=[HttpMethod.PUT, HttpMethod.PATCH],
        operation_id=_update_operation_id,
        summary="Update a customer (JSON merge patch; PUT and PATCH alike)",
        response_headers=COMMAND_HEADERS,
        responses=problems(400, 401, 403, 404, 409, 412, 422, 429),
    )
    async def update(
        self,
        request: HTTPRequest,
        principal: Caller,
        customer_id: CustomerId,
        data: JSONBody[CustomerWrite],
        commands: Commands,
        idempotency_key: IdempotencyKey = None,
        if_match: IfMatch = None,
    ) -> Response[CustomerResource]:
        """Only the fields present change; `null` clears a field (PUT and PATCH alike)."""
        meta = await command_meta(request, principal, idempotency_key, if_match)
        return respond(await commands.update(meta, customer_id, data.to_input()))


class CustomerLifecycleController(Controller):
    """Soft-delete and restore customers (delete permission)."""

    path = "/customers"
    tags = TAGS
    guards = [requires(Permission.DELETE)]

    @delete(
        "/{customer_id:uuid}",
        operation_id="deleteCustomer",
        summary="Soft-delete a customer",
        status_code=200,
        response_headers=COMMAND_HEADERS,
        responses=STATE_CHANGE_PROBLEMS,
    )
    async def delete_customer(
        self,
        request: HTTPRequest,
        principal: Caller,
        customer_id: CustomerId,
        commands: Commands,
        reason: Reason = None,
        data: ReasonData = None,
        idempotency_key: IdempotencyKey = None,
        if_match: IfMatch = None,
    ) -> Response[CustomerResource]:
        """The customer stays readable by id in state `deleted`; its email is freed."""
        meta = await command_meta(request, principal, idempotency_key, if_match)
        return respond(await commands.delete(meta, customer_id, check_reason(reason, data)))

    @post(
        "/{customer_id:uuid}/restore",
        operation_id="restoreCustomer",
        summary="Restore a deleted customer",
        status_code=200,
        response_headers=COMMAND_HEADERS,
        responses=STATE_CHANGE_PROBLEMS,
    )
    async def restore_customer(
        self,
        request: HTTPRequest,
        principal: Caller,
        customer_id: CustomerId,
        commands: Commands,
        reason: Reason = None,
        data: ReasonData = None,
        idempotency_key: IdempotencyKey = None,
        if_match: IfMatch = None,
    ) -> Response[CustomerResource]:
        """Back to `active`; 409 when another customer took the email meanwhile."""
        meta = await command_meta(request, principal, idempotency_key, if_match)
        return respond(await commands.restore(meta, customer_id, check_reason(reason, data)))
