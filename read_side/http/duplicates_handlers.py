"""`GET /customers/{id}/duplicates`: likely duplicates, best first."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from read_side.duplicates import DuplicateFinder
from read_side.http.params import Token
from read_side.records import CustomerRecords
from shared.http.auth import Caller, requires
from shared.http.openapi import problems
from shared.principal import Permission

Finder = NamedDependency[DuplicateFinder]
Records = NamedDependency[CustomerRecords]


class Suggestion(msgspec.Struct, rename="camel"):
    """A likely duplicate: its id, a score from 0 to 1 and the reasons found."""

    customer_id: str
    score: float
    reasons: list[str]


class DuplicatesController(Controller):
    """Duplicate suggestions from the search index (see `read_side.duplicates` for the rules)."""

    path = "/customers/{customer_id:uuid}/duplicates"
    tags = ["customers: queries"]
    guards = [requires(Permission.READ)]

    @get(
        "/",
        operation_id="getCustomerDuplicates",
        summary="Likely duplicates of a customer, best first",
        responses=problems(400, 401, 403, 404, 429, 503),
    )
    async def duplicates(
        self,
        principal: Caller,
        customer_id: FromPath[uuid.UUID],
        duplicates: Finder,
        records: Records,
        consistency_token: Token = None,
    ) -> list[Suggestion]:
        """Same phone, same email local part at another domain, similar names (either order),
        same date of birth; one access-audit entry naming the customer and the suggestions."""
        found = await duplicates.suggest(principal.tenant_id, str(customer_id), consistency_token)
        named = [str(customer_id), *(str(item["customerId"]) for item in found)]
        await records.record_list(principal, named, action="duplicates")
        return [msgspec.convert(item, Suggestion) for item in found]
