"""What the membership store answers: counts, pages of members, every member (the campaign
export), the generic documents (`segment:{id}` → `{count}`: aggregates only, as an analyst may
see them through the projection-documents endpoint) and the outbox for the relay — written
once for both adapters (`MembershipQueries`), each giving `_reading()` and `_run`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from read_side.projections.api import Projection
from read_side.projections.sqlite_store import SQLiteProjectionStore
from read_side.projections.store import KeyedDocument
from read_side.segments.membership import matches
from read_side.segments.tables import Db, Tables, decode, schema
from read_side.views import CustomerDoc
from shared.segment_filter import SegmentFilter

SEGMENT_PREFIX = "segment:"
T = TypeVar("T")


@dataclass(frozen=True)
class MemberPage:
    """Members in `GET /customers` order from a cursor, and the next page's cursor."""

    docs: list[CustomerDoc]
    next_after: str | None


@dataclass(frozen=True)
class Message:
    """A membership change waiting in the outbox."""

    seq: int
    tenant_id: str
    segment_id: str
    customer_id: str
    kind: str
    version: int
    at: str


class MembershipQueries:
    """The read half of the membership store on either adapter (the fold is
    `fold.MembershipFold`)."""

    tables: Tables

    if TYPE_CHECKING:

        def _reading(self) -> AbstractContextManager[Db]: ...

        async def _run(self, function: Callable[..., T], *args: object) -> T: ...

    async def count(self, tenant_id: str, segment_id: str) -> int:
        """Members of the segment at the checkpoint (one primary-key read)."""
        return await self._run(self._count, tenant_id, segment_id)

    async def matching(self, tenant_id: str, spec: SegmentFilter, now: datetime) -> int:
        """How many of the tenant's customers `spec` holds at `now`: a filter not saved yet,
        evaluated as a definition would be (over every customer the store holds)."""
        return await self._run(self._matching, tenant_id, spec, now)

    async def page(
        self, tenant_id: str, segment_id: str, after: str | None, limit: int
    ) -> MemberPage:
        """Up to `limit` members after the sort key `after` (None: from the newest)."""
        return await self._run(self._page, tenant_id, segment_id, after, limit)

    async def everyone(self, tenant_id: str, segment_id: str) -> list[CustomerDoc]:
        """Every member, newest customer first."""
        return await self._run(self._everyone, tenant_id, segment_id)

    async def pending(self, limit: int) -> list[Message]:
        """The oldest membership changes not yet published."""
        return await self._run(self._pending, limit)

    async def acknowledge(self, last_seq: int) -> None:
        """Forget the outbox up to `last_seq` (the broker confirmed it)."""
        await self._run(self._acknowledge, last_seq)

    async def find(self, tenant_id: str, prefix: str = "") -> list[KeyedDocument]:
        """`segment:{id}` → `{count}` for the tenant's segments whose key starts with `prefix`."""
        return await self._run(self._counts, tenant_id, prefix)

    async def get(self, tenant_id: str, key: str) -> KeyedDocument | None:
        """One `segment:{id}` document (None when it has no member)."""
        found = await self._run(self._counts, tenant_id, key)
        return next((item for item in found if item.key == key), None)

    def _count(self, tenant_id: str, segment_id: str) -> int:
        with self._reading() as db:
            row = db.execute(
                f"SELECT count FROM {self.tables.counts} WHERE tenant_id = ? AND segment_id = ?",  # noqa: S608
                (tenant_id, segment_id),
            ).fetchone()
        return int(row[0]) if row else 0

    def _matching(self, tenant_id: str, spec: SegmentFilter, now: datetime) -> int:
        with self._reading() as db:
            rows = db.execute(
                f"SELECT facts FROM {self.tables.docs} WHERE tenant_id = ?",  # noqa: S608
                (tenant_id,),
            )
            return sum(1 for (text,) in rows if matches(spec, decode(text), now))

    def _page(self, tenant_id: str, segment_id: str, after: str | None, limit: int) -> MemberPage:
        t = self.tables
        with self._reading() as db:
            rows = db.execute(
                f"SELECT m.sort_key, c.doc FROM {t.members} m JOIN {t.docs} c "  # noqa: S608
                "ON c.tenant_id = m.tenant_id AND c.key = m.customer_id "
                "WHERE m.tenant_id = ? AND m.segment_id = ? AND m.sort_key < ? "
                "ORDER BY m.sort_key DESC LIMIT ?",
                (tenant_id, segment_id, "\U0010ffff" if after is None else after, limit + 1),
            ).fetchall()
        docs = [decode(text) for _, text in rows[:limit]]
        return MemberPage(docs, rows[limit - 1][0] if len(rows) > limit else None)

    def _everyone(self, tenant_id: str, segment_id: str) -> list[CustomerDoc]:
        found: list[CustomerDoc] = []
        after: str | None = None
        while True:
            page = self._page(tenant_id, segment_id, after, 1000)
            found += page.docs
            if page.next_after is None:
                return found
            after = page.next_after

    def _pending(self, limit: int) -> list[Message]:
        with self._reading() as db:
            rows = db.execute(
                "SELECT seq, tenant_id, segment_id, customer_id, kind, version, at "  # noqa: S608
                f"FROM {self.tables.outbox} ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [Message(*row) for row in rows]

    def _acknowledge(self, last_seq: int) -> None:
        with self._reading() as db:
            db.execute(f"DELETE FROM {self.tables.outbox} WHERE seq <= ?", (last_seq,))  # noqa: S608

    def _counts(self, tenant_id: str, prefix: str) -> list[KeyedDocument]:
        with self._reading() as db:
            rows = db.execute(
                f"SELECT segment_id, count FROM {self.tables.counts} "  # noqa: S608
                "WHERE tenant_id = ? AND count > 0 ORDER BY segment_id",
                (tenant_id,),
            ).fetchall()
        found = [KeyedDocument(SEGMENT_PREFIX + sid, {"count": int(n)}) for sid, n in rows]
        return [item for item in found if item.key.startswith(prefix)]


class MembershipReads(MembershipQueries, SQLiteProjectionStore):
    """The queries on the embedded SQLite file (the fold is `store.MembershipStore`)."""

    def __init__(self, path: Path, projection: Projection, *, generation: int = 1) -> None:
        super().__init__(path, projection, generation=generation)
        self.tables = Tables(self.table)

    def _schema(self, *, complete: bool) -> str:  # noqa: ARG002 - indexes serve every read
        return schema(self.tables)

    def _tables(self) -> list[str]:
        return self.tables.all

    def _reading(self) -> AbstractContextManager[Db]:
        return nullcontext(self._db())
