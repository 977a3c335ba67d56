"""Query endpoints of a customer's engagement: preferences, notes, contactability."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from read_side.contactability import Contactability
from read_side.engagement import EngagementReads
from read_side.http.params import Token
from read_side.timeline import TimelinePage
from shared.engagement import CommunicationPage, NotePage, Preferences
from shared.http.auth import Caller, requires
from shared.http.conditional import NOT_MODIFIED, READ_HEADERS, IfNoneMatch, versioned
from shared.http.openapi import problems
from shared.principal import Permission

Reads = NamedDependency[EngagementReads]
CustomerId = FromPath[uuid.UUID]
PURPOSE_PATTERN = r"^[a-z][a-z0-9_]{1,49}$"
Purpose = Annotated[
    str,
    QueryParameter(
        name="purpose",
        description="`marketing_*` and `push` need a consent; `order_confirmation`, "
        "`appointment_reminder`, `invoice` do not.",
        pattern=PURPOSE_PATTERN,
    ),
]
Kind = Literal[
    "profile", "lifecycle", "order", "payment", "invoice", "consent", "preference",
    "communication", "note", "loyalty", "merge",
]  # fmt: skip
Kinds = Annotated[
    list[Kind] | None,
    QueryParameter(name="kind", description="Only these kinds (repeatable).", required=False),
]
Limit = Annotated[int, QueryParameter(name="limit", ge=1, le=100, description="1-100.")]
Cursor = Annotated[
    str | None,
    QueryParameter(
        name="cursor", required=False, max_length=40, description="`nextCursor` of a page."
    ),
]
PagesCursor = Annotated[
    str | None,
    QueryParameter(
        name="cursor", required=False, max_length=1000, description="`nextCursor` of a page."
    ),
]  # a merged customer's communications page through several streams: a longer cursor
VERSIONED_READ = problems(400, 401, 403, 404, 429, 503) | NOT_MODIFIED


class EngagementQueryController(Controller):
    """`GET .../preferences`, `.../notes`, `.../contactability`."""

    path = "/customers/{customer_id:uuid}"
    tags = ["customers: engagement"]
    guards = [requires(Permission.READ)]

    @get(
        "/preferences", operation_id="getPreferences", summary="Preferences",
        responses=VERSIONED_READ, response_headers=READ_HEADERS,
    )  # fmt: skip
    async def preferences(
        self, principal: Caller, customer_id: CustomerId, engagement_reads: Reads,
        token: Token = None, if_none_match: IfNoneMatch = None,
    ) -> Response[Preferences]:  # fmt: skip
        """`{language, timezone, channels, quietHours, paymentMethod}` (a personal read)."""
        body, version = await engagement_reads.preferences(principal, str(customer_id), token)
        return versioned(body, version, if_none_match)

    @get(
        "/notes", operation_id="listNotes", summary="Notes, newest first",
        responses=VERSIONED_READ, response_headers=READ_HEADERS,
    )  # fmt: skip
    async def notes(
        self, principal: Caller, customer_id: CustomerId, engagement_reads: Reads,
        token: Token = None, if_none_match: IfNoneMatch = None,
    ) -> Response[NotePage]:  # fmt: skip
        """The notes not deleted (deleted ones stay in the history and the timeline)."""
        body, version = await engagement_reads.notes(principal, str(customer_id), token)
        return versioned(body, version, if_none_match)

    @get(
        "/contactability", operation_id="getContactability",
        summary="May a message for this purpose go out now, per channel",
        responses=problems(400, 401, 403, 404, 429, 503),
    )  # fmt: skip
    async def contactability(
        self, principal: Caller, customer_id: CustomerId, engagement_reads: Reads,
        purpose: Purpose, token: Token = None,
    ) -> Contactability:  # fmt: skip
        """`{purpose, channels: {email, sms, push: {allowed, reason}}}`; `reason` is null when
        allowed, else `not_active`, `no_address`, `channel_disabled`, `bounced`, `no_consent`
        or `quiet_hours` (SMS and push, in the customer's own timezone)."""
        tenant = principal.tenant_id
        return await engagement_reads.contactability(tenant, str(customer_id), purpose, token)

    @get(
        "/timeline", operation_id="getTimeline", summary="Everything that happened, newest first",
        responses=problems(400, 401, 403, 404, 429, 503),
    )  # fmt: skip
    async def timeline(
        self, principal: Caller, customer_id: CustomerId, engagement_reads: Reads,
        kind: Kinds = None, limit: Limit = 20, cursor: Cursor = None, token: Token = None,
    ) -> TimelinePage:  # fmt: skip
        """`{items: [{at, kind, type, summary, actor, ref}], nextCursor}` from the timeline
        projection (pass a command's `X-Consistency-Token` to see its effect); `kind`
        repeatable. Summaries name fields, ids and statuses, never personal values."""
        return await engagement_reads.timeline(
            principal, str(customer_id), kind, limit, cursor, token
        )

    @get(
        "/communications", operation_id="listCommunications", summary="Communications",
        responses=problems(400, 401, 403, 404, 429, 503),
    )  # fmt: skip
    async def communications(
        self, principal: Caller, customer_id: CustomerId, engagement_reads: Reads,
        limit: Limit = 20, cursor: PagesCursor = None, token: Token = None,
    ) -> CommunicationPage:  # fmt: skip
        """Newest first: logged by hand (`source: manual`) and each status of a notification
        (`source: notification`) as its own entry; a customer's include those of the
        customers merged into it (pass a merge's `X-Consistency-Token` to see its effect)."""
        return await engagement_reads.communications(
            principal, str(customer_id), limit, cursor, token
        )
