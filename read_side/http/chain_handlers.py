"""`GET /audit/verify`: the tamper-evident log's verification, for auditors.

It answers hashes' verdicts, positions, versions and ids only — no personal value — so it is
not an access to personal data and leaves no access-audit entry.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from read_side.chain import ChainCheck
from read_side.queries import CustomerQueries
from shared.http.auth import requires
from shared.http.openapi import problems
from shared.http.types import HTTPRequest
from shared.principal import Permission, Principal

Queries = NamedDependency[CustomerQueries]
CustomerFilter = Annotated[
    uuid.UUID | None,
    QueryParameter(
        name="customerId",
        required=False,
        description="Only this customer's chain; without it the whole log (every tenant's).",
    ),
]


@get(
    "/audit/verify", operation_id="verifyEventLog", tags=["privacy"],
    summary="Verify the tamper-evident event log: the first event changed by hand, if any",
    guards=[requires(Permission.AUDIT)], responses=problems(400, 401, 403, 404, 429),
)  # fmt: skip
async def verify_event_log(
    request: HTTPRequest, queries: Queries, customer_id: CustomerFilter = None
) -> ChainCheck:
    """`{ok, scope, verified, checkpoints, firstBroken: {kind, position, customerId, version,
    detail} | null}`; `kind` is modified, deleted, reordered or inserted. A break in another
    tenant's customer is reported without its `customerId`."""
    principal = request.user
    assert isinstance(principal, Principal)
    wanted = None if customer_id is None else str(customer_id)
    return await queries.verify_chain(principal.tenant_id, wanted)


CHAIN_HANDLERS = [verify_event_log]
