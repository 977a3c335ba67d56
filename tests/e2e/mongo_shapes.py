"""Records what the service sends to MongoDB (pymongo command monitoring) and judges each
command's filter against the shard key `{tenantId: 1, _id: 1}` (docs/scaling.md).

A query on a collection sharded by tenant must name `tenantId`, so that a router sends it to
the one shard holding that tenant instead of every shard; an insert must carry the field (a
document's shard key decides its shard). Collections that are not sharded (one small,
cross-tenant collection each) and background sweeps across tenants are the exceptions below,
each with its reason — the same list as docs/scaling.md's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from pymongo import monitoring

#: Collections that are not sharded: small, cross-tenant by nature, on the primary shard.
UNSHARDED: dict[str, str] = {
    "projection_checkpoints": "one row per projection and generation (the relay's too)",
    "projection_generations": "one row per projection: its active generation",
    "projection_versions": "one row per projection generation: the version built",
    "security_alerts": "alerts, some with no tenant (unauthenticated bursts)",
    "access_log_migrations": "one marker row",
    "access_audit": "the unchained log before 15.3, read once by its migration",
}
#: Filters that may leave `tenantId` out on a sharded collection: jobs over every tenant
#: (scatter-gather by design, run by the one leaseholder on an interval, or by an operator),
#: by command, collection (without its `_g<n>`) and the top-level fields filtered on.
SWEEPS: dict[tuple[str, str, frozenset[str]], str] = {
    ("find", "customer_view", frozenset({"state", "deletedAt"})): (
        "retention: customers deleted before the cut-off, every tenant"
    ),
    ("find", "customer_view", frozenset({"loyalty.nextExpiryAt"})): (
        "loyalty expiry: points due before the cut-off, every tenant"
    ),
    ("aggregate", "customer_view", frozenset()): "count_documents: a rebuild's total",
}
_BOOKKEEPING = re.compile(r"^(system\..*)$")


@dataclass(frozen=True)
class Shape:
    """One filter (or inserted document) sent to one collection."""

    command: str
    collection: str
    filter: Mapping[str, object]

    @property
    def sharded(self) -> bool:
        return self.collection not in UNSHARDED and not _BOOKKEEPING.match(self.collection)

    @property
    def targeted(self) -> bool:
        """True when the filter pins `tenantId` (equality or `$in`, in every `$or` branch)."""
        return carries_tenant(self.filter)

    def exception(self) -> str | None:
        """Why this shape may leave the tenant out, or None when it may not."""
        if not self.sharded:
            return UNSHARDED.get(self.collection, "a system collection")
        if self.command == "insert":
            return None
        base = re.sub(r"_g[0-9]+$", "", self.collection)
        return SWEEPS.get((self.command, base, frozenset(self.filter)))


def carries_tenant(query: Mapping[str, object]) -> bool:
    """`tenantId` at the top, in one `$and` member, or in every `$or` branch."""
    if "tenantId" in query:
        return True
    if any(carries_tenant(part) for part in _parts(query.get("$and"))):
        return True
    branches = _parts(query.get("$or"))
    return bool(branches) and all(carries_tenant(part) for part in branches)


def shapes_of(name: str, command: Mapping[str, object]) -> list[Shape]:
    """The filters a command carries (none for commands that filter nothing)."""
    collection = str(command.get(name, ""))
    found: list[Mapping[str, object]] = []
    if name == "find":
        found = [_one(command.get("filter"))]
    elif name in ("count", "distinct", "findAndModify"):
        found = [_one(command.get("query"))]
    elif name == "aggregate":
        stages = _parts(command.get("pipeline")) or [{}]
        found = [_one(stages[0].get("$match"))]
    elif name in ("update", "delete"):
        found = [_one(item.get("q")) for item in _parts(command.get(f"{name}s"))]
    elif name == "insert":
        found = _parts(command.get("documents"))
    return [Shape(name, collection, query) for query in found]


def _one(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _parts(value: object) -> list[Mapping[str, object]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


@dataclass
class Recorder(monitoring.CommandListener):
    """Every filter the monitored clients send, by command."""

    shapes: list[Shape] = field(default_factory=list)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.shapes += shapes_of(event.command_name, event.command)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Nothing: the filter was recorded when the command started."""

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Nothing: the filter was recorded when the command started."""

    def untargeted(self) -> list[Shape]:
        """Shapes that leave `tenantId` out with no documented reason."""
        return [s for s in self.shapes if not s.targeted and s.exception() is None]
