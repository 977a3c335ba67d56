"""Per-process cache of rendered `GET /customers/{id}` bodies over the SQLite view store.

Every worker process of a data dir keeps one (the view store is a file of that data dir), and
each keeps it exact by itself: an entry carries the *stamp* of the read model it was rendered
from — the active generation and its checkpoint, read in the same SQLite read transaction as
the document — and every lookup first reads the stamp now (one indexed read of two tiny
tables on the event loop, ~5 µs, instead of a thread hand-off and a decode). When the read
model moved since the entries were made (any batch, a rebuild's switch), they are all dropped:
an entry is served only while the read model holds exactly what it was rendered from, in
every process, whichever process projects. Tenant and customer id key the entries; the
bound is in bytes (LRU). The projecting process also forgets a batch's customers before its
checkpoint moves (`CachingViewSink`), so an erased customer's rendering leaves its memory at
once; the other processes drop theirs at their next lookup or `sweep` (every second).

When the stamp cannot be read (a table not created yet, the file busy: the connection never
waits), the lookup is a miss and nothing is cached.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

import msgspec

from read_side.views import CustomerDoc, to_resource
from shared.resources import CustomerResource

Stamp = tuple[int, int]  # (active generation, its checkpoint)
Key = tuple[str, str]  # (tenant, customer id)
MAX_BYTES = 32 * 1024 * 1024
SWEEP_SECONDS = 1.0
STAMP_SQL = (
    "SELECT g.gen, coalesce(c.position, 0) FROM (SELECT coalesce((SELECT active FROM "
    "projection_generations WHERE name = ?1), 1) AS gen) AS g LEFT JOIN projection_checkpoints "
    "AS c ON c.name = ?1 AND c.generation = g.gen"
)


class Rendered(NamedTuple):
    """A customer's JSON body and its version (the ETag)."""

    body: bytes
    version: int


def render(doc: CustomerDoc) -> Rendered:
    """The customer resource's JSON (as Litestar would encode it) and its version."""
    resource = msgspec.convert(to_resource(doc), CustomerResource)
    return Rendered(msgspec.json.encode(resource), int(doc["version"]))


@runtime_checkable
class StampedViews(Protocol):
    """A view store that can say which state of the read model a document was read from."""

    async def get_stamped(
        self, tenant_id: str, customer_id: str
    ) -> tuple[CustomerDoc | None, Stamp | None]:
        """The document (None: absent) and the read model's stamp (None: not the active
        generation, do not cache)."""
        ...


def read_stamp(db: sqlite3.Connection, name: str) -> Stamp | None:
    """The active generation of `name` and its checkpoint, from one statement (one snapshot)."""
    row = db.execute(STAMP_SQL, (name,)).fetchone()
    return (int(row[0]), int(row[1])) if row else None


class ViewStamp:
    """Reads the view store's stamp on the event loop through a connection of its own that
    never waits for a lock (`busy_timeout = 0`): a busy file answers None at once."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name
        self._db: sqlite3.Connection | None = None

    def __call__(self) -> Stamp | None:
        """The stamp now, or None."""
        try:
            if self._db is None:
                if not self.path.exists():
                    return None
                self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                self._db.execute("PRAGMA busy_timeout = 0")
            return read_stamp(self._db, self.name)
        except sqlite3.Error:
            return None

    def close(self) -> None:
        """Close the connection."""
        if self._db is not None:
            self._db.close()
            self._db = None


class RenderedCache:
    """See the module docstring. It also stands in for the document cache (`DocCache`) of
    this profile: document lookups miss, and the projection's invalidations reach it."""

    def __init__(self, stamp: ViewStamp, max_bytes: int = MAX_BYTES) -> None:
        self._stamp = stamp
        self._max_bytes = max_bytes
        self._entries: OrderedDict[Key, Rendered] = OrderedDict()
        self._bytes = 0
        self._seen: Stamp | None = None

    def _current(self) -> Stamp | None:
        """Read the stamp; drop every entry when it moved (or cannot be read)."""
        stamp = self._stamp()
        if stamp is None or stamp != self._seen:
            self._entries.clear()
            self._bytes = 0
            self._seen = stamp
        return stamp

    def rendered(self, tenant_id: str, customer_id: str) -> Rendered | None:
        """The cached body, valid for the read model as it is now, or None."""
        if self._current() is None:
            return None
        found = self._entries.get((tenant_id, customer_id))
        if found is not None:
            self._entries.move_to_end((tenant_id, customer_id))
        return found

    def keep(self, tenant_id: str, customer_id: str, rendered: Rendered, stamp: Stamp) -> None:
        """Cache a body rendered from the read model at `stamp`, unless the read model has
        moved on since (or the lookups have not seen that stamp yet)."""
        if stamp != self._current() or len(rendered.body) > self._max_bytes:
            return
        key = (tenant_id, customer_id)
        previous = self._entries.pop(key, None)
        self._bytes += len(rendered.body) - (len(previous.body) if previous else 0)
        self._entries[key] = rendered
        while self._bytes > self._max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted.body)

    def sweep(self) -> None:
        """Drop everything if the read model moved (an idle process's erased renderings)."""
        self._current()

    # ------------------------------------------------ `DocCache`, for the projection's sink
    async def get(self, tenant_id: str, customer_id: str) -> CustomerDoc | None:  # noqa: ARG002
        """No documents here: always a miss."""
        return None

    async def add(self, doc: CustomerDoc) -> None:
        """No documents here."""

    async def refresh(self, docs: Sequence[CustomerDoc]) -> None:
        """Forget the renderings of these customers."""
        for doc in docs:
            await self.forget(doc["tenantId"], [doc["id"]])

    async def forget(self, tenant_id: str, customer_ids: Sequence[str]) -> None:
        """Forget the renderings of these customers at once (erasure, any change)."""
        for customer_id in customer_ids:
            previous = self._entries.pop((tenant_id, customer_id), None)
            if previous is not None:
                self._bytes -= len(previous.body)

    async def vouch(self) -> None:
        """Nothing to vouch for: every lookup checks the stamp."""

    def close(self) -> None:
        """Close the stamp's connection."""
        self._stamp.close()


async def sweep_every(cache: RenderedCache, seconds: float = SWEEP_SECONDS) -> None:
    """Sweep until cancelled (a process that serves no read still drops erased renderings)."""
    while True:
        await asyncio.sleep(seconds)
        cache.sweep()
