"""`/customers` queries (read permission): the list and search, a customer by id (and as it
was at a past time, which also needs the audit permission). Thin adapters to
`CustomerQueries`; each read of personal data is recorded in the access audit."""

from __future__ import annotations

import uuid
from typing import Annotated, cast

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, QueryParameter

from read_side.http.params import (
    STATES,
    TYPES,
    Token,
    build_query,
    check_names,
    instant,
    instant_parameter,
    parse_instant,
)
from read_side.ports import SORT_KEYS
from read_side.queries import CustomerQueries
from read_side.records import CustomerRecords
from read_side.resources import CustomerPage
from shared.http.auth import Caller, demand, requires
from shared.http.conditional import (
    NOT_MODIFIED,
    READ_HEADERS,
    IfNoneMatch,
    versioned,
    versioned_json,
)
from shared.http.openapi import problems
from shared.http.types import HTTPRequest
from shared.principal import Permission
from shared.resources import CustomerResource
from shared.settings import Settings

Text = Annotated[str | None, QueryParameter(required=False, max_length=200)]
SORTS = [order + key for key in SORT_KEYS for order in ("", "-")]
ATTR_ITEM = {"type": "string", "pattern": "^[^:]+:", "description": "`key:value`"}
SORT_DESCRIPTION = (
    "createdAt, updatedAt, firstName, lastName, email or lastVisitAt; '-' for descending. "
    "Customers without a value for the field come last in both directions; ties by id."
)
Queries = NamedDependency[CustomerQueries]
Records = NamedDependency[CustomerRecords]
Configuration = NamedDependency[Settings]
AccessPurpose = Annotated[
    str | None,
    HeaderParameter(name="X-Access-Purpose", required=False, max_length=100, description="Why."),
]
TypeFilter = Annotated[
    str | None, QueryParameter(name="type", required=False, schema_extra={"enum": list(TYPES)})
]
StateFilter = Annotated[
    str, QueryParameter(name="state", required=False, schema_extra={"enum": list(STATES)})
]
Tags = Annotated[list[str] | None, QueryParameter(required=False, max_items=20)]
Attributes = Annotated[
    list[str] | None,
    QueryParameter(required=False, max_items=20, schema_extra={"items": ATTR_ITEM}),
]
Sort = Annotated[
    str,
    QueryParameter(
        required=False, max_length=20, description=SORT_DESCRIPTION, schema_extra={"enum": SORTS}
    ),
]
Limit = Annotated[int, QueryParameter(required=False, ge=1, le=100)]
Cursor = Annotated[str | None, QueryParameter(required=False, max_length=1000)]
CreatedFrom = Annotated[str | None, instant_parameter("createdFrom")]
CreatedTo = Annotated[str | None, instant_parameter("createdTo")]
AsOf = Annotated[str | None, instant_parameter("asOf")]
ExternalId = Annotated[
    str | None, QueryParameter(name="externalId", required=False, max_length=100)
]


class CustomerQueryController(Controller):
    """List, search and read customers (read permission)."""

    path = "/customers"
    tags = ["customers: queries"]
    guards = [requires(Permission.READ)]

    @get(
        "/",
        operation_id="listCustomers",
        summary="List and search customers",
        responses=problems(400, 401, 403, 422, 429, 503),
    )
    async def list_customers(
        self, request: HTTPRequest, principal: Caller, queries: Queries, records: Records,
        settings: Configuration, consistency_token: Token = None, q: Text = None,
        type_: TypeFilter = None, state_: StateFilter = "active", email: Text = None,
        phone: Text = None, tag: Tags = None, attr: Attributes = None, consent: Text = None,
        created_from: CreatedFrom = None, created_to: CreatedTo = None,
        sort: Sort = "-createdAt", limit: Limit = 20, cursor: Cursor = None,
        external_id: ExternalId = None,
    ) -> CustomerPage:  # fmt: skip
        """`{items, total, nextCursor}`; every word of `q` must prefix a name or email word."""
        check_names(set(request.query_params.keys()))
        query = build_query(
            tenant_id=principal.tenant_id, region=settings.default_phone_region,
            q=q, type_=type_, state=state_, email=email, phone=phone, tags=tag or [],
            attrs=attr or [], consent=consent, created_from=instant("createdFrom", created_from),
            created_to=instant("createdTo", created_to), sort=sort, limit=limit, cursor=cursor,
            external_id=external_id,
        )  # fmt: skip
        page = await queries.search(query, consistency_token)
        await records.record_list(principal, [item.id for item in page.items])
        return page

    @get(
        "/{customer_id:uuid}",
        operation_id="getCustomer",
        summary="Get a customer (asOf: state at a past time, audit permission)",
        responses=problems(400, 401, 403, 404, 429, 503) | NOT_MODIFIED,
        response_headers=READ_HEADERS,
    )
    async def get_customer(
        self, principal: Caller, customer_id: FromPath[uuid.UUID], queries: Queries,
        records: Records, consistency_token: Token = None, as_of: AsOf = None,
        purpose: AccessPurpose = None, if_none_match: IfNoneMatch = None,
    ) -> Response[CustomerResource]:  # fmt: skip
        """Active and deleted customers are readable; `asOf` rebuilds from the event stream.
        Either read is recorded in the access audit once the customer was found, and carries
        the version it shows as its ETag (304 when `If-None-Match` names it)."""
        if as_of is not None:
            demand(principal, Permission.AUDIT)
            moment = parse_instant("asOf", as_of)
            state = await queries.as_of(principal.tenant_id, str(customer_id), moment)
            await records.record_access(principal, str(customer_id), "asOf", purpose)
            return versioned(state, state.version, if_none_match)
        answer = await queries.rendered(principal.tenant_id, str(customer_id), consistency_token)
        await records.record_access(principal, str(customer_id), "read", purpose)
        # The body is the CustomerResource the signature documents, already encoded.
        return cast(
            "Response[CustomerResource]", versioned_json(answer.body, answer.version, if_none_match)
        )
