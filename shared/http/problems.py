"""One mapping from every exception to an RFC 9457 `application/problem+json` response."""

from __future__ import annotations

import logging
import re

import msgspec
from litestar import MediaType, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from shared.errors import (
    Conflict,
    CustomerError,
    Forbidden,
    IdempotencyMismatch,
    MalformedRequest,
    NotFound,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
    VersionMismatch,
)
from shared.http.types import HTTPRequest, HTTPResponse
from shared.json_types import JSONObject
from shared.transient import is_transient

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://customers.example/problems/"

logger = logging.getLogger(__name__)
#: Retry-After of a 503 caused by an unreachable dependency that no adapter translated.
DEPENDENCY_RETRY_AFTER_SECONDS = 5


class ProblemField(msgspec.Struct):
    """One offending field."""

    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details, as every error of this API is returned."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemField] = []
    existingId: str | None = None  # noqa: N815 - JSON name of the contract


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    errors: list[dict[str, str]] | None = None,
    extra: JSONObject | None = None,
    headers: dict[str, str] | None = None,
) -> HTTPResponse:
    """Build a problem+json response."""
    body: JSONObject = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    body.update(extra or {})
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


class ProblemKind(msgspec.Struct, frozen=True):
    """How one error class is answered: status, title and the last part of the type URI."""

    status: int
    title: str
    slug: str


#: Each error the domain, the application or the read side raises, as HTTP answers it. The
#: statuses live here, not on the exceptions: the layers below know no HTTP.
PROBLEM_KINDS: dict[type[CustomerError], ProblemKind] = {
    MalformedRequest: ProblemKind(400, "Bad request", "bad-request"),
    UnsupportedMediaType: ProblemKind(415, "Unsupported media type", "unsupported-media-type"),
    ValidationFailed: ProblemKind(422, "Validation failed", "validation-failed"),
    NotFound: ProblemKind(404, "Not found", "not-found"),
    Forbidden: ProblemKind(403, "Forbidden", "forbidden"),
    Conflict: ProblemKind(409, "Conflict", "conflict"),
    VersionMismatch: ProblemKind(412, "Precondition failed", "precondition-failed"),
    IdempotencyMismatch: ProblemKind(422, "Idempotency key reused", "idempotency-key-reused"),
    ServiceUnavailable: ProblemKind(503, "Service unavailable", "unavailable"),
}
_FALLBACK = ProblemKind(400, "Bad request", "bad-request")


def problem_kind(error: CustomerError) -> ProblemKind:
    """The answer for `error`'s class, or for its nearest mapped base class."""
    for cls in type(error).__mro__:
        kind = PROBLEM_KINDS.get(cls)
        if kind is not None:
            return kind
    return _FALLBACK


def _customer_error(_: HTTPRequest, exc: CustomerError) -> HTTPResponse:
    headers = None
    if isinstance(exc, ServiceUnavailable):
        headers = {"Retry-After": str(exc.retry_after)}
    kind = problem_kind(exc)
    return problem_response(
        kind.status,
        kind.title,
        exc.detail,
        slug=kind.slug,
        errors=[{"field": e.field, "message": e.message} for e in exc.errors],
        extra=exc.extra,
        headers=headers,
    )


def _validation_error(request: HTTPRequest, exc: ValidationException) -> HTTPResponse:
    errors = []
    aliases = _api_names(request)
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            message = str(item.get("message", "invalid"))
            field = str(item.get("key") or "body")
            unknown = re.search(r"unknown field `([^`]{0,100})`", message)
            if unknown:
                field = unknown.group(1)
            elif field == "data":
                field = "body"
            elif item.get("source") != "body":
                field = aliases.get(field, field)
            errors.append({"field": field, "message": message})
    detail = str(exc.detail or "The request is malformed.")
    missing = _MISSING.match(detail)
    if missing and not errors:
        errors.append({"field": missing.group(2), "message": f"is a required {missing.group(1)}"})
    return problem_response(400, "Malformed request", detail, slug="malformed", errors=errors)


_MISSING = re.compile(r"Missing required (\w+) parameter '([^']{1,100})'")


def _api_names(request: HTTPRequest) -> dict[str, str]:
    """Python parameter name → the name the client sent (`as_of` → `asOf`, a header's name):
    an error must name what the client can change, not the handler's argument."""
    try:
        parameters = request.route_handler.parsed_fn_signature.parameters
    except Exception:  # no handler resolved (e.g. a 404): nothing to rename
        return {}
    names = {}
    for python_name, definition in parameters.items():
        alias = getattr(definition.kwarg_definition, "name", None)
        if isinstance(alias, str) and alias:
            names[python_name] = alias
    return names


_TITLES = {
    401: ("Unauthorized", "unauthorized"),
    403: ("Forbidden", "forbidden"),
    404: ("Not found", "not-found"),
    405: ("Method not allowed", "method-not-allowed"),
    413: ("Payload too large", "payload-too-large"),
    415: ("Unsupported media type", "unsupported-media-type"),
    429: ("Too many requests", "rate-limited"),
}


def _http_error(_: HTTPRequest, exc: HTTPException) -> HTTPResponse:
    status = exc.status_code
    if status >= 500:
        logger.error("server error", exc_info=exc)
    fallback = ("Malformed request", "malformed") if status < 500 else ("Server error", "error")
    title, slug = _TITLES.get(status, fallback)
    detail = str(exc.detail) if exc.detail else title
    kept = {k: v for k, v in (exc.headers or {}).items() if k.lower() in _KEPT_HEADERS}
    # 405 lists what the resource supports (RFC 9110 §15.5.6) and 401 names the scheme
    # (§11.6.1); other headers an exception carries may be internal and are dropped.
    headers = {_KEPT_HEADERS[k.lower()]: v for k, v in kept.items()}
    if status == 401:
        detail = "A valid bearer token is required."
        headers["WWW-Authenticate"] = "Bearer"
    return problem_response(status, title, detail, slug=slug, headers=headers or None)


_KEPT_HEADERS = {"retry-after": "Retry-After", "allow": "Allow"}


def _undecodable(_: HTTPRequest, exc: RecursionError | UnicodeError) -> HTTPResponse:
    detail = (
        "The JSON body is nested too deeply."
        if isinstance(exc, RecursionError)
        else "The body is not valid UTF-8 JSON."
    )
    return problem_response(400, "Malformed request", detail, slug="malformed")


def _unexpected(_: HTTPRequest, exc: Exception) -> HTTPResponse:
    if is_transient(exc):
        # A dependency is down (connection refused, timeout, lock): the client may retry.
        logger.warning("dependency unavailable: %s", type(exc).__name__)
        return problem_response(
            503,
            PROBLEM_KINDS[ServiceUnavailable].title,
            "A service this request needs is unavailable; retry later.",
            slug=PROBLEM_KINDS[ServiceUnavailable].slug,
            headers={"Retry-After": str(DEPENDENCY_RETRY_AFTER_SECONDS)},
        )
    logger.error("unexpected error", exc_info=exc)
    return problem_response(
        500, "Server error", "The server failed; the error was logged.", slug="server-error"
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    CustomerError: _customer_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    RecursionError: _undecodable,
    UnicodeError: _undecodable,
    Exception: _unexpected,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_MEDIA_TYPE", "MediaType", "Problem", "problem_response"]
