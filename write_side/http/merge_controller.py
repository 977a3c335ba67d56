"""`POST /customers/{id}/merge` and `/unmerge` (delete permission): thin adapters to
`MergeCommands`."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from shared.http.auth import Caller, requires
from shared.http.openapi import COMMAND_HEADERS, problems
from shared.http.types import HTTPRequest
from shared.principal import Permission
from shared.resources import CustomerResource
from write_side.application.merges import MergeCommands
from write_side.http.command_support import (
    CustomerId,
    IdempotencyKey,
    IfMatch,
    command_meta,
    respond,
)

Merges = NamedDependency[MergeCommands]


class MergeBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """Body of `POST /customers/{id}/merge` and `/unmerge`: the other customer's id."""

    source_id: uuid.UUID


class MergeController(Controller):
    """Merge a duplicate into a customer, and undo it within 30 days (delete permission)."""

    path = "/customers"
    tags = ["customers: commands"]
    guards = [requires(Permission.DELETE)]

    @post(
        "/{customer_id:uuid}/merge", operation_id="mergeCustomer",
        summary="Merge a duplicate into this customer", status_code=200,
        response_headers=COMMAND_HEADERS,
        responses=problems(400, 401, 403, 404, 409, 412, 422, 429),
    )  # fmt: skip
    async def merge_customer(
        self, request: HTTPRequest, principal: Caller, customer_id: CustomerId,
        data: JSONBody[MergeBody], merges: Merges, idempotency_key: IdempotencyKey = None,
        if_match: IfMatch = None,
    ) -> Response[CustomerResource]:  # fmt: skip
        """The source (`sourceId`) is folded into this customer, which answers: it keeps its
        own values and takes the source's where its own are empty; tags are united,
        attributes keep this customer's value on a clash; orders, payments, invoices,
        communications, notes and loyalty points move here; per consent purpose the latest
        change wins. The source becomes `merged` (`mergedInto` set): readable by id, in no
        list, and every command on it is 409."""
        meta = await command_meta(request, principal, idempotency_key, if_match)
        return respond(await merges.merge(meta, customer_id, data.source_id))

    @post(
        "/{customer_id:uuid}/unmerge", operation_id="unmergeCustomer",
        summary="Undo a merge (within 30 days)", status_code=200,
        response_headers=COMMAND_HEADERS,
        responses=problems(400, 401, 403, 404, 409, 412, 422, 429),
    )  # fmt: skip
    async def unmerge_customer(
        self, request: HTTPRequest, principal: Caller, customer_id: CustomerId,
        data: JSONBody[MergeBody], merges: Merges, idempotency_key: IdempotencyKey = None,
        if_match: IfMatch = None,
    ) -> Response[CustomerResource]:  # fmt: skip
        """The source (`sourceId`) gets back exactly what it had; this customer, which
        answers, gives back what it got from it and keeps what happened to it since."""
        meta = await command_meta(request, principal, idempotency_key, if_match)
        return respond(await merges.unmerge(meta, customer_id, data.source_id))
