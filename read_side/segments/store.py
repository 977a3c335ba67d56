"""The membership store: one generation of `segment_membership` in a SQLite file.

What a batch and a sweep do is `fold.MembershipFold`'s (see its docstring), written once
for both adapters. Customer documents hold personal values (the `q` key needs names): an
erasure's batch is scrubbed out of the file's pages and log before the checkpoint passes it,
as in the view store. This SQLite file serves the embedded profile; `pg_store` serves
whenever the event store is PostgreSQL (any host may hold the projection's lease and every
host reads the same tables).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from read_side import sqlite_support
from read_side.segments.port import SegmentStore
from read_side.segments.reads import MembershipReads
from read_side.segments.tables import Db
from shared.clock import utc_now

if TYPE_CHECKING:
    from read_side.segments.projection import SegmentMembershipProjection


class MembershipStore(SegmentStore, MembershipReads):
    """`ProjectionStore` of `segment_membership` in the embedded SQLite file, plus its
    queries, sweep and outbox."""

    def __init__(
        self,
        path: Path,
        projection: SegmentMembershipProjection,
        *,
        generation: int = 1,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(path, projection, generation=generation)
        self.projection = projection
        self.clock = clock
        self._filters = None
        self._definitions = ""

    def _begin(self) -> AbstractContextManager[Db]:
        return sqlite_support.transaction(self._db())
