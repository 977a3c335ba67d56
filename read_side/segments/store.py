"""The membership store: one generation of `segment_membership` in a SQLite file.

A batch is folded in one transaction: customer documents evolve, and each customer an event
reached is evaluated against every segment of its tenant (`matches`, the one definition of
membership) at the store's clock; a segment defined or redefined is evaluated over every
customer of its tenant. Pairs, counts and the outbox move together with the checkpoint, so a
count read at a checkpoint is exact there. `sweep()` brings the time-dependent keys up to the
clock: it re-evaluates only the customers whose last visit crossed a `lastVisitWithinDays` or
`noVisitWithinDays` boundary since the previous sweep, or since the generation's first batch
(every membership was evaluated at a clock at least that late).

Only the serving (active) generation fills the outbox: a rebuild's backfill announces nothing.
Customer documents hold personal values (the `q` key needs names): an erasure's batch is
scrubbed out of the file's pages and log before the checkpoint passes it, as in the view store.

The fold (`MembershipFold`) is written once for both adapters: this SQLite file (the embedded
profile) and PostgreSQL (`pg_store`, whenever the event store is PostgreSQL: any host may hold
the projection's lease and every host reads the same tables).
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
