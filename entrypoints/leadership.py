"""Who runs what when several processes, on any hosts, share one deployment (issue 16 A.1).

With the event store in PostgreSQL and the read models in MongoDB and Redis, nothing a
projection needs lives on the host: every process runs the projection runner, and each
projection (and each single-process duty) is run by whichever process holds its lease in
PostgreSQL. Otherwise (embedded, or a read model in the data dir) the data dir's file lock
elects one process per data dir, as before.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

from shared.adapters.pg_leases import PgLeases
from shared.settings import Settings

#: seconds a lease outlives its holder's last renewal (takeover within ttl + the 1 s retry)
LEASE_TTL_SECONDS = 6.0


def coordinates_through_services(settings: Settings) -> bool:
    """True when every projection's state is on shared services (PostgreSQL event store,
    MongoDB read models and checkpoints, Redis search): leases instead of a local lock."""
    return settings.shared_event_store and bool(settings.mongo_url and settings.redis_url)


def holder_id() -> str:
    """This process, as lease tables and logs name it: host, pid and a random suffix (a pid
    is reused, and two containers may share a hostname)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def rebuild_site(settings: Settings) -> Path | str:
    """Where rebuild locks live: the event store's database when hosts share the read models
    (a rebuild on one host must stop a sweep on another), else the data dir."""
    if coordinates_through_services(settings):
        assert settings.event_store_url
        return settings.event_store_url
    return settings.data_dir


def open_leases(settings: Settings, ttl: float = LEASE_TTL_SECONDS) -> PgLeases | None:
    """The lease table of the deployment, or None when the local lock decides."""
    if not coordinates_through_services(settings):
        return None
    assert settings.event_store_url
    return PgLeases(settings.event_store_url, holder_id(), ttl=ttl)
