"""Segment definitions: define, redefine, remove (each an event of the log) and read back.

The filter is checked before anything is stored (422 naming every bad key). A segment and its
tenant's `SegmentList` are saved together in one transaction.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import cast

from eventsourcing.application import AggregateNotFoundError

from shared.errors import FieldError, NotFound, ValidationFailed, VersionMismatch
from shared.json_types import JSONObject
from shared.principal import Principal
from shared.segment_filter import parse_filter
from write_side.application.ports import EventStore
from write_side.domain.segment import Segment, SegmentList


@dataclass(frozen=True)
class Definition:
    """What a client sends to define a segment."""

    name: str
    description: str | None
    filter: JSONObject


@dataclass(frozen=True)
class Stored:
    """A segment as stored, and the log position of the command that stored it."""

    segment: Segment
    position: int


def check_definition(body: JSONObject) -> Definition:
    """The definition, or `ValidationFailed` naming every bad field (the filter's included)."""
    errors: list[FieldError] = []
    name, description = body.get("name"), body.get("description")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        errors.append(FieldError("name", "1-100 characters"))
    if description is not None and (not isinstance(description, str) or len(description) > 500):
        errors.append(FieldError("description", "at most 500 characters"))
    try:
        parse_filter(body.get("filter", {}))
    except ValidationFailed as error:
        errors += error.errors
    if errors:
        raise ValidationFailed("The segment is not valid.", errors=errors)
    return Definition(str(name).strip(), description, dict(body.get("filter") or {}))


class SegmentCommands:
    """Segment definitions over the event store (synchronous library: run in a thread)."""

    def __init__(self, app: EventStore) -> None:
        self._app = app

    async def define(self, principal: Principal, definition: Definition) -> Stored:
        """A new segment of the caller's tenant."""
        return await asyncio.to_thread(self._define, principal, definition)

    async def redefine(
        self, principal: Principal, segment_id: str, definition: Definition, version: int | None
    ) -> Stored:
        """New name, description and filter; `version` (If-Match) must be the current one."""
        return await asyncio.to_thread(self._change, principal, segment_id, version, definition)

    async def remove(self, principal: Principal, segment_id: str, version: int | None) -> Stored:
        """Remove the segment (its events stay in the log)."""
        return await asyncio.to_thread(self._change, principal, segment_id, version, None)

    async def get(self, tenant_id: str, segment_id: str) -> Segment:
        """A present segment of the tenant, else `NotFound`."""
        return await asyncio.to_thread(self._load, tenant_id, segment_id)

    async def all(self, tenant_id: str) -> list[Segment]:
        """The tenant's present segments, oldest first."""
        return await asyncio.to_thread(self._list, tenant_id)

    def _define(self, principal: Principal, definition: Definition) -> Stored:
        segment = Segment(principal.tenant_id, principal.subject, definition.name,
                          definition.description, definition.filter)  # fmt: skip
        listing = self._listing(principal.tenant_id) or SegmentList(principal.tenant_id)
        listing.add(str(segment.id))
        return Stored(segment, self._save(segment, listing))

    def _change(
        self,
        principal: Principal,
        segment_id: str,
        version: int | None,
        definition: Definition | None,
    ) -> Stored:
        segment = self._load(principal.tenant_id, segment_id)
        if version is not None and version != segment.version:
            raise VersionMismatch("The segment changed since that version.")
        if definition is None:
            segment.remove(principal.subject)
            listing = self._listing(principal.tenant_id) or SegmentList(principal.tenant_id)
            listing.drop(str(segment.id))
            return Stored(segment, self._save(segment, listing))
        segment.redefine(
            principal.subject, definition.name, definition.description, definition.filter
        )
        return Stored(segment, self._save(segment))

    def _save(self, *aggregates: Segment | SegmentList) -> int:
        recordings = self._app.save(*aggregates)
        return max((r.notification.id for r in recordings), default=0)

    def _load(self, tenant_id: str, segment_id: str) -> Segment:
        try:
            found: object = self._app.repository.get(uuid.UUID(segment_id))
        except (AggregateNotFoundError, ValueError):
            raise NotFound("No segment with this id.") from None
        if not isinstance(found, Segment) or found.tenant_id != tenant_id or found.removed:
            raise NotFound("No segment with this id.")
        return found

    def _listing(self, tenant_id: str) -> SegmentList | None:
        try:
            return cast(SegmentList, self._app.repository.get(SegmentList.create_id(tenant_id)))
        except AggregateNotFoundError:
            return None

    def _list(self, tenant_id: str) -> list[Segment]:
        listing = self._listing(tenant_id)
        return [self._load(tenant_id, known) for known in (listing.ids if listing else [])]
