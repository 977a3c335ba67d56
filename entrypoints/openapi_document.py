"""The served OpenAPI document, made exactly as strict as the server.

Litestar generates most of the document from the handlers; what it cannot say is added here,
once, when the document is first built (nothing runs at import):

- public operations (`exclude_from_auth`: /health, /metrics) declare `security: []`, so the
  document no longer claims they need a bearer token;
- every 401 declares the `WWW-Authenticate: Bearer` header the server sends with it;
- request bodies decoded by a msgspec Struct with `forbid_unknown_fields` declare
  `additionalProperties: false` (the server answers 400 to an unknown field);
- an optional body (`JSONBody[X | None]`: delete, restore, erase) is `required: false`;
- a query or header parameter is never JSON `null` (absent is how it is left out), so
  Litestar's `oneOf: [X, null]` for an optional one becomes `X`;
- a `oneOf` of `integer` and `number` keeps `number` (an integer matched both branches, so
  no branch at all);
- links (OpenAPI 3.1 §4.8.20): every answer that is a customer leads, by its `id`, to every
  operation on that customer (clients and schemathesis' stateful phase follow them), and an
  issued invoice leads to reading it.

A schemathesis run with every check (tests/e2e/test_schemathesis.py) holds the document and the
server to each other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from types import ModuleType

import msgspec
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    Link,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)

from shared.json_types import JSONObject

WWW_AUTHENTICATE_DESCRIPTION = "`Bearer` (RFC 6750): the token is missing, expired or invalid."


def install_refinements(app: Litestar) -> None:
    """Refine the app's document whenever Litestar builds it (lazily: building costs ~0.1 s,
    and most apps, in tests above all, never serve it). The plugin keeps its state in slots,
    so its class is swapped for a subclass with the same layout rather than patched."""
    plugin = app.plugins.get(OpenAPIPlugin)
    plugin.__class__ = _RefinedOpenAPIPlugin


class _RefinedOpenAPIPlugin(OpenAPIPlugin):
    __slots__ = ()

    def _build_openapi(self) -> OpenAPI:
        built = super()._build_openapi()
        public = set(_public_operation_ids(self.app))
        for operation in _operations(built):
            refine_operation(operation, public)
        add_links(built)
        closed = {kind.__name__ for kind in _closed_bodies()}
        for name, schema in (built.components.schemas or {}).items():
            if name in closed:
                schema.additional_properties = False
            _number_covers_integer(schema)
        return built


def _closed_bodies() -> list[type[msgspec.Struct]]:
    """Request bodies that refuse unknown fields (`forbid_unknown_fields`)."""
    from entrypoints import segments_http
    from shared import loyalty_resources
    from write_side.http import engagement_schemas, integration_schemas, merge_controller, schemas

    return [
        kind
        for kind in body_structs(
            schemas,
            integration_schemas,
            loyalty_resources,
            engagement_schemas,
            segments_http,
            merge_controller,
        )
        if kind.__struct_config__.forbid_unknown_fields
    ]


def document(app: Litestar) -> JSONObject:
    """The document exactly as `/api/openapi.json` serves it."""
    served: JSONObject = app.plugins.get(OpenAPIPlugin).provide_openapi_schema()
    return served


def refine_operation(operation: Operation, public: set[str]) -> None:
    """Security, the 401 header and optional bodies of one operation."""
    if operation.operation_id in public:
        operation.security = []
    for status, response in (operation.responses or {}).items():
        if status == "401" and isinstance(response, OpenAPIResponse):
            response.headers = {**(response.headers or {}), "WWW-Authenticate": _header()}
    body = operation.request_body
    if isinstance(body, RequestBody) and _nullable_content(body.content):
        body.required = False
    for parameter in operation.parameters or []:
        if isinstance(parameter, Parameter) and isinstance(parameter.schema, Schema):
            _drop_null(parameter.schema)


def add_links(built: OpenAPI) -> None:
    """From each customer-returning success to each operation with a `customer_id`."""
    operations = list(_operations(built))
    targets = [op for op in operations if "customer_id" in _path_parameters(op)]
    for source in operations:
        for status, response in (source.responses or {}).items():
            if not status.startswith("2") or not isinstance(response, OpenAPIResponse):
                continue
            if not _returns(response, "CustomerResource"):
                continue
            links = {
                _link_name(target): Link(
                    operation_id=target.operation_id,
                    parameters={"customer_id": "$response.body#/id"},
                )
                for target in targets
            }
            response.links = {**(response.links or {}), **links}
    for source in operations:
        issued = (source.responses or {}).get("201")
        if source.operation_id == "issueInvoice" and isinstance(issued, OpenAPIResponse):
            issued.links = {
                "GetInvoice": Link(
                    operation_id="getInvoice",
                    parameters={
                        "customer_id": "$request.path.customer_id",
                        "number": "$response.body#/number",
                    },
                )
            }


def _returns(response: OpenAPIResponse, component: str) -> bool:
    media = (response.content or {}).get("application/json")
    schema = media.schema if media is not None else None
    return isinstance(schema, Reference) and schema.ref == f"#/components/schemas/{component}"


def _path_parameters(operation: Operation) -> set[str]:
    return {
        p.name
        for p in operation.parameters or []
        if isinstance(p, Parameter) and str(p.param_in) in ("path", "ParamType.PATH")
    }


def _link_name(operation: Operation) -> str:
    name = str(operation.operation_id)
    return name[:1].upper() + name[1:]


def _drop_null(schema: Schema) -> None:
    """`{oneOf: [X, null], ...}` → `{...X, ...}` in place (the outer keys win)."""
    choices = [c for c in schema.one_of or [] if getattr(c, "type", None) is not OpenAPIType.NULL]
    if schema.one_of is None or len(choices) != 1 or not isinstance(choices[0], Schema):
        return
    schema.one_of = None
    for field in dataclasses.fields(Schema):
        if getattr(schema, field.name) is None:
            setattr(schema, field.name, getattr(choices[0], field.name))


def _number_covers_integer(schema: Schema) -> None:
    """`oneOf: [integer, number, ...]` → `oneOf: [number, ...]`, at any depth: a JSON integer
    is also a number, so it matched two branches of the `oneOf` and no schema at all (an
    attribute value `3`). Both answer and request accept the same values as before."""
    nested = [
        *(schema.properties or {}).values(),
        *(schema.one_of or []),
        *([schema.items] if schema.items is not None else []),
        *([schema.additional_properties] if schema.additional_properties is not None else []),
    ]
    for inner in nested:
        if isinstance(inner, Schema):
            _number_covers_integer(inner)
    choices = schema.one_of or []
    types = {choice.type for choice in choices if isinstance(choice, Schema)}
    if OpenAPIType.INTEGER in types and OpenAPIType.NUMBER in types:
        schema.one_of = [
            choice
            for choice in choices
            if not (isinstance(choice, Schema) and choice.type is OpenAPIType.INTEGER)
        ]


def _header() -> OpenAPIHeader:
    return OpenAPIHeader(
        description=WWW_AUTHENTICATE_DESCRIPTION,
        required=True,
        schema=Schema(type=OpenAPIType.STRING, pattern="^Bearer"),
    )


def body_structs(*modules: ModuleType) -> list[type[msgspec.Struct]]:
    """The msgspec Structs defined in `modules` (the request bodies)."""
    return [
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, msgspec.Struct)
        and value.__module__ == module.__name__
    ]


def _nullable_content(content: dict[str, OpenAPIMediaType]) -> bool:
    """True when every media type's schema admits `null` (Litestar's `X | None` body)."""
    schemas = [media.schema for media in content.values()]
    return bool(schemas) and all(_admits_null(schema) for schema in schemas)


def _admits_null(schema: Schema | Reference | None) -> bool:
    choices = schema.one_of if isinstance(schema, Schema) else None
    return any(
        isinstance(choice, Schema) and choice.type is OpenAPIType.NULL for choice in choices or []
    )


def _operations(document: OpenAPI) -> Iterator[Operation]:
    for item in (document.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
            operation = getattr(item, method, None)
            if operation is not None:
                yield operation


def _public_operation_ids(app: Litestar) -> Iterator[str]:
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and handler.opt.get("exclude_from_auth"):
                operation_id = handler.operation_id
                if isinstance(operation_id, str):
                    yield operation_id
