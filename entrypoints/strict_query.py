"""Unknown query parameters are refused (400) on every documented operation, not only on the
list: `DELETE /customers/{id}?reasn=left` used to succeed and drop the misspelt reason, the way
an unknown body field would have been dropped had bodies not refused them.

What an operation takes is read from the served OpenAPI document (its query parameters), so
the document and the server cannot disagree. Public operations (no security: /health,
/metrics) and paths outside the document (/api/docs) are left alone.

Building the document costs ~0.5 s of CPU; it is built once per process for each distinct set
of routes (every app `create_app` builds has the same), not once per app: the e2e suite starts
an app per test, and the first request of each was paying for it.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute

from entrypoints.openapi_document import document
from shared.errors import FieldError, MalformedRequest
from shared.http.types import HTTPRequest
from shared.json_types import JSONObject

Names = dict[tuple[str, str], frozenset[str]]
RouteKey = tuple[tuple[str, str, str], ...]
_STATE_KEY = "query_parameter_names"
#: Query names by the routes they were read from (one entry per distinct app shape).
_BY_ROUTES: dict[RouteKey, Names] = {}


def query_names(doc: JSONObject) -> Names:
    """(path template, METHOD) → the query parameter names of every protected operation."""
    names: Names = {}
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or operation.get("security") == []:
                continue
            declared = operation.get("parameters", [])
            query = frozenset(p["name"] for p in declared if p.get("in") == "query")
            names[(path, method.upper())] = query
    return names


def route_key(app: Litestar) -> RouteKey:
    """What the document's operations are made of: every (path, method, handler function)."""
    return tuple(
        sorted(
            (route.path, method, f"{handler.fn.__module__}.{handler.fn.__qualname__}")
            for route in app.routes
            if isinstance(route, HTTPRoute)
            for handler in route.route_handlers
            for method in sorted(handler.http_methods)
        )
    )


def app_query_names(app: Litestar) -> Names:
    """The app's query names, read from its document unless an app with the same routes
    already had them read."""
    key = route_key(app)
    names = _BY_ROUTES.get(key)
    if names is None:
        names = _BY_ROUTES[key] = query_names(document(app))
    return names


async def refuse_unknown_query(request: HTTPRequest) -> None:
    """`before_request` hook: 400 naming every query parameter the operation does not take
    (the names are read from the app's document on its first request)."""
    state = request.app.state
    names: Names | None = state.get(_STATE_KEY)
    if names is None:
        names = state[_STATE_KEY] = app_query_names(request.app)
    template = str(request.scope.get("path_template", ""))
    known = names.get((template, request.method.upper()))
    if known is None:
        return
    unknown = sorted(set(request.query_params.keys()) - known)
    if unknown:
        raise MalformedRequest(
            "Unknown query parameters.",
            errors=[FieldError(n[:50], "is not a parameter of this endpoint") for n in unknown],
        )
