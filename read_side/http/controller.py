"""Query endpoints: thin adapters from HTTP to `CustomerQueries`."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Response, get
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
)
from read_side.ports import SORT_KEYS
from read_side.queries import CustomerQueries
from read_side.records import CustomerRecords
from shared.http.auth import requires
from shared.http.conditional import NOT_MODIFIED, READ_HEADERS, IfNoneMatch, versioned
from shared.http.openapi import problems
from shared.http.types import HTTPRequest
from shared.json_types import JSONObject
from shared.principal import Permission, Principal
from shared.resources import CustomerResource

Text = Annotated[str | None, QueryParameter(required=False, max_length=200)]
SORTS = [order + key for key in SORT_KEYS for order in ("", "-")]
ATTR_ITEM = {"type": "string", "pattern": "^[^:]+:", "description": "`key:value`"}
Queries = NamedDependency[CustomerQueries]
SORT_DESCRIPTION = (
    "createdAt, updatedAt, firstName, lastName, email or lastVisitAt; '-' for descending. "
    "Customers without a value for the field come last in both directions; ties by id."
)
Records = NamedDependency[CustomerRecords]
AccessPurpose = Annotated[
    str | None,
    HeaderParameter(name="X-Access-Purpose", required=False, max_length=100, description="Why."),
]


def provide_queries(request: HTTPRequest) -> CustomerQueries:
    """The query use cases (set up by the composition root)."""
    queries: CustomerQueries = request.app.state.queries
    return queries


def _principal(request: HTTPRequest) -> Principal:
    principal = request.user
    assert isinstance(principal, Principal)
    return principal


@get(
    "/",
    tags=["customers: queries"],
    operation_id="listCustomers",
    summary="List and search customers",
    guards=[requires(Permission.READ)],
    responses=problems(400, 401, 403, 422, 429, 503),
)
async def list_customers(
    request: HTTPRequest,
    queries: Queries,
    records: Records,
    consistency_token: Token = None,
    q: Text = None,
    type_: Annotated[
        str | None, QueryParameter(name="type", required=False, schema_extra={"enum": list(TYPES)})
    ] = None,
    state_: Annotated[
        str, QueryParameter(name="state", required=False, schema_extra={"enum": list(STATES)})
    ] = "active",
    email: Text = None,
    phone: Text = None,
    tag: Annotated[list[str] | None, QueryParameter(required=False, max_items=20)] = None,
    attr: Annotated[
        list[str] | None,
        QueryParameter(required=False, max_items=20, schema_extra={"items": ATTR_ITEM}),
    ] = None,
    consent: Text = None,
    created_from: Annotated[str | None, instant_parameter("createdFrom")] = None,
    created_to: Annotated[str | None, instant_parameter("createdTo")] = None,
    sort: Annotated[
        str,
        QueryParameter(
            required=False,
            max_length=20,
            description=SORT_DESCRIPTION,
            schema_extra={"enum": SORTS},
        ),
    ] = "-createdAt",
    limit: Annotated[int, QueryParameter(required=False, ge=1, le=100)] = 20,
    cursor: Annotated[str | None, QueryParameter(required=False, max_length=1000)] = None,
    external_id: Annotated[
        str | None, QueryParameter(name="externalId", required=False, max_length=100)
    ] = None,
) -> JSONObject:
    """`{items, total, nextCursor}`; every word of `q` must prefix a name or email word."""
    check_names(set(request.query_params.keys()))
    principal = _principal(request)
    query = build_query(
        tenant_id=principal.tenant_id,
        region=request.app.state.settings.default_phone_region,
        q=q, type_=type_, state=state_, email=email, phone=phone, tags=tag or [],
        attrs=attr or [], consent=consent, created_from=instant("createdFrom", created_from),
        created_to=instant("createdTo", created_to), sort=sort, limit=limit, cursor=cursor,
        external_id=external_id,
    )  # fmt: skip
    page = await queries.search(query, consistency_token)
    await records.record_list(principal, [item["id"] for item in page["items"]])
    return page


@get(
    "/{customer_id:uuid}",
    tags=["customers: queries"],
    operation_id="getCustomer",
    summary="Get a customer (asOf: state at a past time, audit permission)",
    guards=[requires(Permission.READ)],
    responses=problems(400, 401, 403, 404, 429, 503) | NOT_MODIFIED,
    response_headers=READ_HEADERS,
)
async def get_customer(
    request: HTTPRequest,
    customer_id: FromPath[uuid.UUID],
    queries: Queries,
    records: Records,
    consistency_token: Token = None,
    as_of: Annotated[str | None, instant_parameter("asOf")] = None,
    purpose: AccessPurpose = None,
    if_none_match: IfNoneMatch = None,
) -> Response[CustomerResource]:
    """Active and deleted customers are readable; `asOf` rebuilds from the event stream.
    Either read is recorded in the access audit once the customer was found, and carries
    the version it shows as its ETag (304 when `If-None-Match` names it)."""
    principal = _principal(request)
    if as_of is not None:
        requires(Permission.AUDIT)(request, request.route_handler)

        moment = instant("asOf", as_of)
        assert moment is not None
        state = await queries.as_of(principal.tenant_id, str(customer_id), moment)
        await records.record_access(principal, str(customer_id), "asOf", purpose)
        return versioned(state, state["version"], if_none_match)
    resource = await queries.get(principal.tenant_id, str(customer_id), consistency_token)
    await records.record_access(principal, str(customer_id), "read", purpose)
    return versioned(resource, resource["version"], if_none_match)


@get(
    "/{customer_id:uuid}/history",
    tags=["customers: queries"],
    operation_id="getCustomerHistory",
    summary="A customer's events, oldest first, with field-level changes",
    guards=[requires(Permission.AUDIT)],
    responses=problems(400, 401, 403, 404, 429),
)
async def history(
    request: HTTPRequest,
    customer_id: FromPath[uuid.UUID],
    queries: Queries,
    records: Records,
    purpose: AccessPurpose = None,
) -> JSONObject:
    """`{items: [{version, type, occurredAt, actor, changes: {field: {from, to}}}]}`."""
    principal = _principal(request)
    items = await queries.history(principal.tenant_id, str(customer_id))
    await records.record_access(principal, str(customer_id), "history", purpose)
    return items


QUERY_HANDLERS = [list_customers, get_customer, history]
