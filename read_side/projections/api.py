"""The interface a projection implements, whether built in or shipped by another package under
the entry-point group `customers.projections`.

A projection keeps JSON documents, each under a key of its own choosing inside the event's
tenant (the store scopes every key to the tenant, so no projection can mix tenants). For every
event it wants, it names the keys the event changes (`keys`) and then changes those documents in
place (`apply`). The service loads the documents, calls `apply` event by event over a batch,
writes the changed documents with the batch's checkpoint, and backfills, rebuilds and
switches generations for it. Each document remembers the position of the last event applied
to it, and an event is applied only to the documents that have not seen it: re-applying a
batch after a crash is harmless, whatever `apply` does (counters included).

A document emptied by `apply` reads as absent. Bump `version` when the meaning of the
documents changes: the service then backfills a new generation from the start of the log
while the old one serves, and switches when it has caught up.

Keep personal values out: an analytics projection stores counts, periods and hashed ids
(`hashed_id`), never names, emails or free text. Erasure does not reach a projection's store.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, MutableMapping
from typing import Protocol, runtime_checkable

from read_side.events import EventEnvelope
from shared.json_types import JSONObject

__all__ = ["Document", "Documents", "EventEnvelope", "Projection", "check_projection", "hashed_id"]

Document = JSONObject
#: The documents one event may change, by key; a key not stored yet holds `{}`.
Documents = MutableMapping[str, Document]

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@runtime_checkable
class Projection(Protocol):
    """What a projection is. A class with these attributes and methods is enough (no base
    class to inherit); the entry point names the class or an instance of it."""

    name: str  #: lower_snake_case, unique among projections (`customers projections list`)
    version: int  #: bump to backfill a new generation
    events: frozenset[str]  #: the event types it wants (`customer.created`, ...)
    description: str  #: one line for `customers projections list`

    def keys(self, event: EventEnvelope) -> Iterable[str]:
        """The keys (in the event's tenant) of the documents `event` changes."""
        ...

    def apply(self, event: EventEnvelope, docs: Documents) -> None:
        """Change `docs` (exactly the keys `keys(event)` named that have not seen `event`
        yet) in place. Pure: no I/O, no clock; everything comes from the event."""
        ...


class InvalidProjection(ValueError):
    """A projection that does not honour the interface (named in the message)."""


def check_projection(candidate: object, origin: str) -> Projection:
    """`candidate` if it is a usable projection, else `InvalidProjection` saying why."""
    if not isinstance(candidate, Projection):
        raise InvalidProjection(f"{origin}: not a projection (name, version, events, keys, apply)")
    if not isinstance(candidate.name, str) or not NAME.match(candidate.name):
        raise InvalidProjection(f"{origin}: name must be lower_snake_case, 1-40 characters")
    version = candidate.version
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidProjection(f"{origin}: version must be a positive integer")
    if not isinstance(candidate.events, frozenset | set) or not all(
        isinstance(kind, str) for kind in candidate.events
    ):
        raise InvalidProjection(f"{origin}: events must be a set of event type names")
    return candidate


def hashed_id(tenant_id: str, customer_id: str) -> str:
    """A stable pseudonym of a customer for keys of analytics documents: the same customer
    always maps to the same value, and the value does not lead back to the customer id
    without the tenant and the id themselves."""
    digest = hashlib.sha256(f"customers.projections:{tenant_id}:{customer_id}".encode())
    return digest.hexdigest()[:32]
