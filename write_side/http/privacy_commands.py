"""Privacy commands: consent per purpose (write permission) and the right to erasure (erase
permission)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Response, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from shared.http.auth import Caller, requires
from shared.http.openapi import problems
from shared.http.types import HTTPRequest
from shared.principal import Permission
from shared.record_resources import Consent
from shared.resources import CustomerResource
from write_side.application.privacy import PrivacyCommands
from write_side.http.command_support import (
    CustomerId,
    IfMatch,
    Reason,
    ReasonData,
    check_reason,
    command_meta,
    record_headers,
    respond,
)
from write_side.http.integration_schemas import ConsentBody

Privacy = NamedDependency[PrivacyCommands]
Purpose = Annotated[str, FromPath]
TAGS = ["privacy"]


class ConsentCommandController(Controller):
    """Grant or withdraw consent (write permission)."""

    path = "/customers"
    tags = TAGS
    guards = [requires(Permission.WRITE)]

    @put(
        "/{customer_id:uuid}/consents/{purpose:str}", operation_id="setConsent",
        summary="Grant or withdraw consent for a purpose",
        responses=problems(400, 401, 403, 404, 409, 412, 422, 429),
    )  # fmt: skip
    async def set_consent(
        self, request: HTTPRequest, principal: Caller, customer_id: CustomerId,
        purpose: Purpose, data: JSONBody[ConsentBody], privacy: Privacy, if_match: IfMatch = None,
    ) -> Response[Consent]:  # fmt: skip
        """Body `{granted, source, legalBasis}`; each change is an event with time and actor."""
        meta = await command_meta(request, principal, None, if_match)
        outcome = await privacy.change_consent(
            meta,
            customer_id,
            purpose,
            granted=data.granted,
            source=data.source,
            legal_basis=data.legal_basis,
        )
        consent = {"purpose": purpose, **msgspec.to_builtins(outcome.customer.consents[purpose])}
        body = msgspec.convert(consent, Consent)
        return Response(body, headers=record_headers(outcome.customer.version, outcome.position))


class ErasureController(Controller):
    """The right to erasure (erase permission)."""

    path = "/customers"
    tags = TAGS
    guards = [requires(Permission.ERASE)]

    @post(
        "/{customer_id:uuid}/erase", operation_id="eraseCustomer", summary="Right to erasure",
        status_code=200, responses=problems(400, 401, 403, 404, 422, 429),
    )  # fmt: skip
    async def erase_customer(
        self,
        request: HTTPRequest,
        principal: Caller,
        customer_id: CustomerId,
        privacy: Privacy,
        reason: Reason = None,
        data: ReasonData = None,
    ) -> Response[CustomerResource]:
        """Personal data becomes unreadable everywhere (crypto-shredding); state `erased`."""
        meta = await command_meta(request, principal, None)
        return respond(await privacy.erase(meta, customer_id, check_reason(reason, data)))
