"""Loyalty commands over HTTP: the tenant's program, redemptions and adjustments."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from shared.errors import FieldError, NotFound, ValidationFailed
from shared.http.auth import Caller, requires
from shared.http.openapi import problems
from shared.http.types import HTTPRequest
from shared.loyalty_resources import Adjustment, LoyaltyProgram, RecordedEntry, Redemption
from shared.principal import Permission
from write_side.application.loyalty import EntryRecorded, LoyaltyCommands
from write_side.domain.values import is_plain_text
from write_side.http.command_support import IdempotencyKey, command_meta

Loyalty = NamedDependency[LoyaltyCommands]
CustomerId = FromPath[uuid.UUID]
TAGS = ["loyalty"]


def _reason(text: str) -> str:
    reason = text.strip()
    if not reason or not is_plain_text(reason):
        raise ValidationFailed(
            "Bad reason.", errors=[FieldError("reason", "plain text, not only blanks")]
        )
    return reason


def _recorded(recorded: EntryRecorded, replayed: bool = False) -> Response[RecordedEntry]:
    body = msgspec.convert({**recorded.entry, "balance": recorded.balance}, RecordedEntry)
    headers = {"X-Consistency-Token": str(recorded.position)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(body, status_code=201, headers=headers)


class LoyaltyProgramController(Controller):
    """`/loyalty/program`: one per tenant; no program means no points."""

    path = "/loyalty/program"
    tags = TAGS

    @get(
        "/", operation_id="getLoyaltyProgram", summary="The tenant's loyalty program",
        guards=[requires(Permission.READ)], responses=problems(400, 401, 403, 404, 429, 503),
    )  # fmt: skip
    async def get_program(self, principal: Caller, loyalty: Loyalty) -> LoyaltyProgram:
        """404 while the tenant has none."""
        document = await loyalty.program(principal.tenant_id)
        if document is None:
            raise NotFound("This tenant has no loyalty program.")
        return msgspec.convert(document, LoyaltyProgram)

    @put(
        "/", operation_id="setLoyaltyProgram", summary="Define or change the loyalty program",
        guards=[requires(Permission.TENANT_ADMIN)],
        responses=problems(400, 401, 403, 422, 429, 503),
    )  # fmt: skip
    async def set_program(
        self, request: HTTPRequest, principal: Caller, data: JSONBody[LoyaltyProgram],
        loyalty: Loyalty,
    ) -> LoyaltyProgram:  # fmt: skip
        """Applies from now on: points already earned, lots and tiers reached stay as they
        are. Unknown currencies and repeated tier names or thresholds are 422."""
        meta = await command_meta(request, principal, None)
        document, _ = await loyalty.set_program(meta, data.to_document())
        return msgspec.convert(document, LoyaltyProgram)


class LoyaltyLedgerController(Controller):
    """`/customers/{id}/loyalty/...`: what staff and managers do to a customer's points."""

    path = "/customers/{customer_id:uuid}/loyalty"
    tags = TAGS

    @post(
        "/redemptions", operation_id="redeemLoyaltyPoints", summary="Redeem points",
        guards=[requires(Permission.WRITE)], status_code=201,
        responses=problems(400, 401, 403, 404, 409, 422, 429, 503),
    )  # fmt: skip
    async def redeem(
        self, request: HTTPRequest, principal: Caller, customer_id: CustomerId,
        data: JSONBody[Redemption],
        loyalty: Loyalty, idempotency_key: IdempotencyKey = None,
    ) -> Response[RecordedEntry]:  # fmt: skip
        """More points than the balance is 409 (with `balance`). With `Idempotency-Key` a
        repeat answers the first redemption and spends nothing more."""
        meta = await command_meta(request, principal, idempotency_key)
        recorded = await loyalty.redeem(meta, customer_id, data.points, _reason(data.reason))
        return _recorded(recorded, recorded.replayed)

    @post(
        "/adjustments", operation_id="adjustLoyaltyPoints", summary="Adjust points (managers)",
        guards=[requires(Permission.DELETE)], status_code=201,
        responses=problems(400, 401, 403, 404, 409, 422, 429, 503),
    )  # fmt: skip
    async def adjust(
        self, request: HTTPRequest, principal: Caller, customer_id: CustomerId,
        data: JSONBody[Adjustment],
        loyalty: Loyalty, idempotency_key: IdempotencyKey = None,
    ) -> Response[RecordedEntry]:  # fmt: skip
        """`points` either sign, never 0; below zero is 409. Positive points count toward
        lifetime points (and the tier)."""
        if data.points == 0:
            raise ValidationFailed(
                "Adjust by a number of points.", errors=[FieldError("points", "must not be 0")]
            )
        meta = await command_meta(request, principal, idempotency_key)
        recorded = await loyalty.adjust(meta, customer_id, data.points, _reason(data.reason))
        return _recorded(recorded, recorded.replayed)
