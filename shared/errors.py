"""What went wrong, in the service's own words: plain exceptions, no HTTP.

Domain, application and read side raise these; the HTTP layer (`shared.http.problems`) maps
each class to a status and a problem+json body, and the CLI to an exit code. They live in
`shared` because both sides raise them (a missing customer is `NotFound` for a command and
for a query) and the read side may not import the write side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.json_types import JSONObject


@dataclass(frozen=True)
class FieldError:
    """One offending field and why it was refused."""

    field: str
    message: str


class CustomerError(Exception):
    """Base of every error a client can cause (never a server failure)."""

    def __init__(
        self,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        extra: JSONObject | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra or {}


class MalformedRequest(CustomerError):
    """The request is not well-formed (bad JSON, wrong JSON types, bad parameters)."""


class UnsupportedMediaType(CustomerError):
    """The body is in a format this operation does not read (an import neither CSV nor NDJSON)."""


class ValidationFailed(CustomerError):
    """A business rule refused the input; `errors` names every offending field."""


class NotFound(CustomerError):
    """No such resource for this tenant (other tenants' resources look missing too)."""


class Forbidden(CustomerError):
    """The caller may not do this to this resource (someone else's note, for example); the
    route's permission alone could not tell."""


class Conflict(CustomerError):
    """A duplicate identity or a state that forbids the command."""


class VersionMismatch(CustomerError):
    """The version the caller expected is not the current one."""


class IdempotencyMismatch(CustomerError):
    """An idempotency key was reused with a different request."""


class ServiceUnavailable(CustomerError):
    """A dependency or a projection is not ready; retry after `retry_after` seconds."""

    def __init__(self, detail: str, *, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ConfigurationError(ValueError):
    """A setting cannot work; the message names the variable and what it takes.

    Not a `CustomerError`: it stops a command or the server at start (the CLI exits 2), it
    is never an answer to a request.
    """


@dataclass
class FieldErrors:
    """Collects field errors so that every offending field is reported at once."""

    items: list[FieldError] = field(default_factory=list)

    def add(self, name: str, message: str) -> None:
        """Record that `name` is invalid."""
        self.items.append(FieldError(name, message))

    def raise_if_any(self, detail: str = "The request has invalid fields.") -> None:
        """Raise `ValidationFailed` naming every collected field, if any."""
        if self.items:
            raise ValidationFailed(detail, errors=list(self.items))
