"""`GET /customers/{id}/loyalty`: a customer's points from the loyalty read model."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from read_side.http.params import Token
from read_side.http.record_queries import WAITING_READ_PROBLEMS, Records
from shared.http.auth import Caller, requires
from shared.loyalty_resources import LoyaltyAccount
from shared.principal import Permission

Limit = Annotated[int, QueryParameter(required=False, ge=1, le=100)]
Cursor = Annotated[str | None, QueryParameter(required=False, max_length=200)]


class LoyaltyAccountController(Controller):
    """The read side of a customer's ledger (its commands are the write side's)."""

    path = "/customers/{customer_id:uuid}/loyalty"
    tags = ["loyalty"]

    @get(
        "/", operation_id="getCustomerLoyalty", summary="Points, tier and ledger entries",
        guards=[requires(Permission.READ)], responses=WAITING_READ_PROBLEMS,
    )  # fmt: skip
    async def account(
        self, principal: Caller, customer_id: FromPath[uuid.UUID], records: Records,
        token: Token = None, cursor: Cursor = None, limit: Limit = 20,
    ) -> LoyaltyAccount:  # fmt: skip
        """`{balance, lifetimePoints, tier, expiring, entries: {items, nextCursor}}`; entries
        newest first. A customer with no points yet has a zero balance and no entries."""
        body = await records.loyalty(principal, str(customer_id), token, cursor, limit)
        return msgspec.convert(body, LoyaltyAccount)
