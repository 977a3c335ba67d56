"""Error types shared by both sides; the HTTP layer maps each to a problem+json status."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One offending field and why it was refused."""

    field: str
    message: str


class CustomerError(Exception):
    """Base of every error a client can cause; never a 500."""

    status = 400
    title = "Bad request"
    type_slug = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra or {}


class MalformedRequest(CustomerError):
    """The request is not well-formed (bad JSON, wrong JSON types, bad parameters)."""


class ValidationFailed(CustomerError):
    """A business rule refused the input."""

    status = 422
    title = "Validation failed"
    type_slug = "validation-failed"


class NotFound(CustomerError):
    """No such resource for this tenant (other tenants' resources look missing too)."""

    status = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(CustomerError):
    """A duplicate identity or a state that forbids the command."""

    status = 409
    title = "Conflict"
    type_slug = "conflict"


class PreconditionFailed(CustomerError):
    """The `If-Match` version is not the current one."""

    status = 412
    title = "Precondition failed"
    type_slug = "precondition-failed"


class IdempotencyMismatch(CustomerError):
    """An `Idempotency-Key` was reused with a different request."""

    status = 422
    title = "Idempotency key reused"
    type_slug = "idempotency-key-reused"


class ServiceUnavailable(CustomerError):
    """A dependency or a projection is not ready; retry later."""

    status = 503
    title = "Service unavailable"
    type_slug = "unavailable"

    def __init__(self, detail: str, *, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


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
