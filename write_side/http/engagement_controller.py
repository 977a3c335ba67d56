"""Command endpoints of a customer's engagement: preferences, notes, communications."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, Response, delete, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from shared.clock import iso_utc
from shared.engagement import (
    CommunicationItem,
    Note,
    Preferences,
    communication_item,
    preferences_resource,
)
from shared.http.auth import Caller, requires
from shared.http.openapi import problems
from shared.http.types import HTTPRequest
from shared.principal import Permission
from write_side.application.decisions import CommandOutcome
from write_side.application.engagement import EngagementCommands
from write_side.domain.engagement import Communication
from write_side.http.command_support import IdempotencyKey, IfMatch, command_meta
from write_side.http.engagement_schemas import CommunicationBody, NoteBody, PreferencesPatch

Engagement = NamedDependency[EngagementCommands]
CustomerId = FromPath[uuid.UUID]
TAG = "customers: engagement"


def _headers(outcome: CommandOutcome[object]) -> dict[str, str]:
    headers = {
        "ETag": f'"{outcome.customer.version}"',
        "X-Consistency-Token": str(outcome.position),
    }
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return headers


class EngagementCommandController(Controller):
    """`PUT .../preferences`, `POST`/`DELETE .../notes`, `POST .../communications`."""

    path = "/customers/{customer_id:uuid}"
    tags = [TAG]

    @put(
        "/preferences", operation_id="setPreferences", summary="Change preferences (merge patch)",
        guards=[requires(Permission.WRITE)],
        responses=problems(400, 401, 403, 404, 409, 412, 422, 429),
    )  # fmt: skip
    async def set_preferences(
        self, request: HTTPRequest, principal: Caller, customer_id: CustomerId,
        data: JSONBody[PreferencesPatch],
        engagement: Engagement, if_match: IfMatch = None, idempotency_key: IdempotencyKey = None,
    ) -> Response[Preferences]:  # fmt: skip
        """A JSON merge patch (RFC 7396) of the preferences document; the merged document is
        checked whole (BCP 47 language, IANA timezone, quiet hours, brand/last4 only)."""
        meta = await command_meta(request, principal, idempotency_key, if_match)
        outcome = await engagement.change_preferences(meta, customer_id, data.to_patch())
        body = preferences_resource(outcome.customer.preferences)
        return Response(body, headers=_headers(outcome))

    @post(
        "/notes", operation_id="addNote", summary="Add a note", status_code=201,
        guards=[requires(Permission.WRITE)], responses=problems(400, 401, 403, 404, 409, 422, 429),
    )  # fmt: skip
    async def add_note(
        self, request: HTTPRequest, principal: Caller, customer_id: CustomerId,
        data: JSONBody[NoteBody],
        engagement: Engagement, idempotency_key: IdempotencyKey = None,
    ) -> Response[Note]:  # fmt: skip
        """`{text}` (1-5000 characters) → `{id, text, author, at}`; the author is the caller."""
        meta = await command_meta(request, principal, idempotency_key)
        outcome = await engagement.add_note(meta, customer_id, data.text)
        note = outcome.result or _replayed_note(outcome)
        headers = _headers(outcome) | {"Location": f"/customers/{customer_id}/notes/{note['id']}"}
        return Response(Note(**note), status_code=201, headers=headers)

    @delete(
        "/notes/{note_id:str}", operation_id="deleteNote", summary="Delete a note",
        status_code=200, guards=[requires(Permission.WRITE)],
        responses=problems(400, 401, 403, 404, 409, 412, 429),
    )  # fmt: skip
    async def delete_note(
        self, request: HTTPRequest, principal: Caller, customer_id: CustomerId,
        note_id: FromPath[str],
        engagement: Engagement, if_match: IfMatch = None, idempotency_key: IdempotencyKey = None,
    ) -> Response[Note]:  # fmt: skip
        """The note leaves lists and stays in the history. Its author may delete it, and
        whoever may delete customers (manager, admin); others get 403."""
        meta = await command_meta(request, principal, idempotency_key, if_match)
        outcome = await engagement.delete_note(meta, customer_id, note_id)
        note = outcome.result or {"id": note_id, "text": None, "author": "", "at": ""}
        return Response(Note(**note), headers=_headers(outcome))

    @post(
        "/communications", operation_id="logCommunication", summary="Log a communication",
        status_code=201, guards=[requires(Permission.WRITE)],
        responses=problems(400, 401, 403, 404, 409, 422, 429),
    )  # fmt: skip
    async def log_communication(
        self, request: HTTPRequest, principal: Caller, customer_id: CustomerId,
        data: JSONBody[CommunicationBody],
        engagement: Engagement, idempotency_key: IdempotencyKey = None,
    ) -> Response[CommunicationItem]:  # fmt: skip
        """One communication logged by hand (`at` defaults to now)."""
        meta = await command_meta(request, principal, idempotency_key)
        # Under an Idempotency-Key the id is derived from it, so a replay names the same one.
        key = meta.idempotency_key
        communication = Communication(
            communication_id=str(uuid.uuid5(customer_id, key) if key else uuid.uuid4()),
            source="manual",
            channel=data.channel,
            direction=data.direction,
            purpose=data.purpose,
            subject=data.subject,
            template=None,
            status=None,
            bounce_type=None,
            at=iso_utc(data.at) if data.at is not None else engagement.now(),
        )
        outcome = await engagement.record_communication(meta, customer_id, communication)
        item = communication_item(_event_data(communication), meta.principal.subject)
        return Response(item, status_code=201, headers=_headers(outcome))


def _event_data(communication: Communication) -> dict[str, object]:
    data: dict[str, object] = msgspec.to_builtins(communication)
    return data


def _replayed_note(outcome: CommandOutcome[object]) -> dict[str, object]:
    """The note a replayed `POST .../notes` added: the newest at the replayed version."""
    notes = sorted(outcome.customer.note_items.values(), key=lambda n: str(n["at"]))
    return dict(notes[-1])
