"""The customer resource as both sides render it (JSON, camelCase)."""

from __future__ import annotations

import msgspec


class StateChange(msgspec.Struct):
    """One entry of `stateHistory`."""

    state: str
    at: str
    by: str
    reason: str | None = None


class CustomerResource(msgspec.Struct, rename="camel"):
    """A customer, as returned by every endpoint that returns one."""

    id: str
    type: str
    state: str
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    date_of_birth: str | None
    notes: str | None
    tags: list[str]
    attributes: dict[str, str | int | float | bool]
    first_visit_at: str | None
    last_visit_at: str | None
    visit_count: int
    created_at: str
    updated_at: str
    deleted_at: str | None
    version: int
    state_history: list[StateChange]
    email_deliverable: bool = True
    """False once the current email hard-bounced, until the email changes."""
    external_id: str | None = None
    merged_into: str | None = None
    """The customer this one was merged into (state `merged`), else null."""
