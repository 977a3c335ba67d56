"""Unknown query parameters are refused (400) on every documented operation, not only on the
list: `DELETE /customers/{id}?reasn=left` used to succeed and drop the misspelt reason, the way
an unknown body field would have been dropped had bodies not refused them.

What an operation takes is read from the served OpenAPI document (its query parameters), so
the document and the server cannot disagree. Public operations (no security: /health,
/metrics) and paths outside the document (/api/docs) are left alone.
"""

from __future__ import annotations

from entrypoints.openapi_document import document
from shared.errors import FieldError, MalformedRequest
from shared.http.types import HTTPRequest
from shared.json_types import JSONObject

Names = dict[tuple[str, str], frozenset[str]]
_STATE_KEY = "query_parameter_names"


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


async def refuse_unknown_query(request: HTTPRequest) -> None:
    """`before_request` hook: 400 naming every query parameter the operation does not take
    (the names are read from the app's document once, on its first request)."""
    state = request.app.state
    names: Names | None = state.get(_STATE_KEY)
    if names is None:
        names = state[_STATE_KEY] = query_names(document(request.app))
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
