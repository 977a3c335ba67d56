"""The membership projection's batch and sweep, written once for both adapters of its store
(`store.MembershipStore` on SQLite, `pg_store.PgMembershipStore` on PostgreSQL).

A batch is folded in one transaction: customer documents evolve, and each customer an event
reached is evaluated against every segment of its tenant (`matches`, the one definition of
membership) at the store's clock; a segment defined or redefined is evaluated over every
customer of its tenant. Pairs, counts and the outbox move together with the checkpoint, so a
count read at a checkpoint is exact there. `sweep()` brings the time-dependent keys up to the
clock: it re-evaluates only the customers whose last visit crossed a `lastVisitWithinDays` or
`noVisitWithinDays` boundary since the previous sweep, or since the generation's first batch
(every membership was evaluated at a clock at least that late).

Only the serving (active) generation fills the outbox: a rebuild's backfill announces nothing.
The cached definitions are re-read when another process (a moved lease) changed them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from read_side.events import EventEnvelope
from read_side.projections.api import Projection
from read_side.projections.fold import wanted
from read_side.segments.membership import matches
from read_side.segments.projection import CUSTOMER_PREFIX, REMOVED, SEGMENT_EVENTS
from read_side.segments.tables import (
    Changes,
    Db,
    Row,
    Tables,
    decode,
    load_rows,
    members_of,
    segments_of,
    write_rows,
)
from read_side.views import CustomerDoc
from shared.clock import iso_utc
from shared.events import payloads as ev
from shared.segment_filter import SegmentFilter, parse_filter

Filters = dict[str, dict[str, SegmentFilter]]  # tenant → segment id → filter
T = TypeVar("T")


class MembershipFold:
    """The projection's batch and the sweep, on either adapter. An adapter gives `_begin`
    (a transaction that serialises this generation's writers), `_write_checkpoint`, `_run`
    (its worker thread) and `apply_and_scrub`."""

    name: str
    generation: int
    tables: Tables
    projection: Projection
    clock: Callable[[], datetime]
    _filters: Filters | None
    _definitions: str  # the definitions' version the cache holds

    if TYPE_CHECKING:

        def _begin(self) -> AbstractContextManager[Db]: ...

        def _write_checkpoint(self, db: Db, position: int) -> None: ...

        async def _run(self, function: Callable[..., T], *args: object) -> T: ...

        async def apply_and_scrub(
            self,
            events: Sequence[EventEnvelope],
            position: int,
            scrub: Callable[[], None] | None,
            *,
            erasing: bool | None = None,
        ) -> None: ...

    # ---------------------------------------------------------------- the projection
    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        """Fold the batch, evaluate membership and store `position`, in one transaction."""
        erasing = any(event.type == "customer.erased" for event in events)
        await self.apply_and_scrub(wanted(self.projection, events), position, None, erasing=erasing)

    async def sweep(self) -> int:
        """Re-evaluate the time-dependent keys at the clock; the number of changes."""
        return await self._run(self._sweep)

    def _apply(self, events: list[EventEnvelope], position: int) -> None:
        try:
            with self._begin() as db:
                self._refresh(db)
                if events:
                    now = self.clock()
                    self._fold(db, events, now)
                    # Every membership of a generation is evaluated at the clock of its batch,
                    # never before its first one: the sweep's range starts there.
                    db.execute(f"INSERT INTO {self.tables.state} (key, value) "  # noqa: S608
                               "VALUES ('swept_at', ?) ON CONFLICT DO NOTHING",
                               (now.isoformat(),))  # fmt: skip
                self._write_checkpoint(db, position)
        except BaseException:
            self._filters, self._definitions = None, ""  # the rollback undid what it holds
            raise

    def _fold(self, db: Db, events: list[EventEnvelope], now: datetime) -> None:
        publish = self._publishing(db)
        rows: dict[tuple[str, str], Row] = {}
        customers = [e for e in events if e.type not in SEGMENT_EVENTS]
        for tenant in {e.tenant_id for e in customers}:
            ids = list({e.customer_id for e in customers if e.tenant_id == tenant})
            loaded = load_rows(db, self.tables, tenant, ids)
            rows.update({(tenant, key): row for key, row in loaded.items()})
        dirty: set[tuple[str, str]] = set()
        for event in events:
            if event.type in SEGMENT_EVENTS:
                self._settle(db, {key: rows[key] for key in dirty}, now, publish)
                dirty = set()
                self._segment(db, event, now, publish)
                continue
            key = (event.tenant_id, event.customer_id)
            row = rows.get(key)
            if row is not None and row.position >= event.position:
                continue  # seen: a batch re-applied after a crash
            docs = {CUSTOMER_PREFIX + event.customer_id: row.doc if row else {}}
            self.projection.apply(event, docs)
            doc = docs[CUSTOMER_PREFIX + event.customer_id]
            if doc:
                rows[key] = Row(doc, event.position)
                dirty.add(key)
        self._settle(db, {key: rows[key] for key in dirty}, now, publish)

    def _settle(
        self, db: Db, rows: dict[tuple[str, str], Row], now: datetime, publish: bool
    ) -> None:
        """Store these customers and move each to the segments it matches now."""
        for tenant in {tenant for tenant, _ in rows}:
            mine = {key: row for (t, key), row in rows.items() if t == tenant}
            write_rows(db, self.tables, tenant, mine)
            self._evaluate(db, tenant, {k: r.doc for k, r in mine.items()}, now, publish)

    def _evaluate(
        self,
        db: Db,
        tenant: str,
        docs: dict[str, CustomerDoc],
        now: datetime,
        publish: bool,
    ) -> int:
        filters = self._tenant_filters(db, tenant)
        current = segments_of(db, self.tables, tenant, list(docs)) if filters else {}
        changes = Changes()
        for key, doc in docs.items():
            now_in = {sid for sid, spec in filters.items() if matches(spec, doc, now)}
            was_in = current.get(key, set())
            for sid in now_in - was_in:
                changes.add(tenant, sid, doc)
            for sid in was_in - now_in:
                changes.remove(tenant, sid, doc)
        changes.write(db, self.tables, publish=publish, at=iso_utc(now))
        return len(changes)

    def _segment(self, db: Db, event: EventEnvelope, now: datetime, publish: bool) -> None:
        t, segment_id = self.tables, event.customer_id
        found = db.execute(f"SELECT tenant_id FROM {t.segments} WHERE segment_id = ?",  # noqa: S608
                           (segment_id,)).fetchone()  # fmt: skip
        tenant = event.tenant_id or (str(found[0]) if found else "")
        filters = self._tenant_filters(db, tenant)
        if event.type == REMOVED:
            self._bump(db)
            filters.pop(segment_id, None)
            db.execute(f"UPDATE {t.segments} SET removed = 1 WHERE segment_id = ?", (segment_id,))  # noqa: S608
            for table in (t.members, t.counts):  # a removed segment's members are not announced
                db.execute(f"DELETE FROM {table} WHERE tenant_id = ? AND segment_id = ?",  # noqa: S608
                           (tenant, segment_id))  # fmt: skip
            return
        self._bump(db)
        definition = event.payload
        assert isinstance(definition, ev.SegmentDefined)  # or its subclass, SegmentRedefined
        raw = definition.filter
        spec = parse_filter(raw)
        db.execute(f"INSERT INTO {t.segments} (segment_id, tenant_id, filter, removed) "  # noqa: S608
                   "VALUES (?, ?, ?, 0) ON CONFLICT (segment_id) DO UPDATE SET "
                   "tenant_id = excluded.tenant_id, filter = excluded.filter, removed = 0",
                   (segment_id, tenant, json.dumps(raw)))  # fmt: skip
        filters[segment_id] = spec
        self._evaluate_segment(db, tenant, segment_id, spec, now, publish)

    def _evaluate_segment(
        self,
        db: Db,
        tenant: str,
        segment_id: str,
        spec: SegmentFilter,
        now: datetime,
        publish: bool,
    ) -> int:
        """One segment over every customer of the tenant."""
        existing = members_of(db, self.tables, tenant, segment_id)
        changes = Changes()
        rows = db.execute(f"SELECT key, facts FROM {self.tables.docs} WHERE tenant_id = ?",  # noqa: S608
                          (tenant,))  # fmt: skip
        for key, text in rows:
            doc = decode(text)
            if matches(spec, doc, now) != (key in existing):
                (changes.remove if key in existing else changes.add)(tenant, segment_id, doc)
        changes.write(db, self.tables, publish=publish, at=iso_utc(now))
        return len(changes)

    def _sweep(self) -> int:
        now, t, changed = self.clock(), self.tables, 0
        with self._begin() as db:
            self._refresh(db)
            publish = self._publishing(db)
            row = db.execute(f"SELECT value FROM {t.state} WHERE key = 'swept_at'").fetchone()  # noqa: S608
            last = datetime.fromisoformat(row[0]) if row else None
            for tenant, filters in self._all_filters(db).items():
                timed = {sid: spec for sid, spec in filters.items() if spec.uses_time}
                if last is None:
                    for sid, spec in timed.items():
                        changed += self._evaluate_segment(db, tenant, sid, spec, now, publish)
                    continue
                ids = self._crossed(db, tenant, timed.values(), last, now)
                docs = {k: r.doc for k, r in load_rows(db, t, tenant, sorted(ids)).items()}
                changed += self._evaluate(db, tenant, docs, now, publish) if docs else 0
            db.execute(f"INSERT INTO {t.state} (key, value) VALUES ('swept_at', ?) "  # noqa: S608
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                       (now.isoformat(),))  # fmt: skip
        return changed

    def _crossed(
        self,
        db: Db,
        tenant: str,
        specs: Iterable[SegmentFilter],
        last: datetime,
        now: datetime,
    ) -> set[str]:
        """Customers whose last visit crossed a day boundary of these filters since `last`."""
        days = {d for s in specs for d in (s.last_visit_within_days, s.no_visit_within_days) if d}
        found: set[str] = set()
        for day in days:
            low, high = sorted((iso_utc(last - timedelta(days=day)),
                                iso_utc(now - timedelta(days=day))))  # fmt: skip
            rows = db.execute(
                f"SELECT key FROM {self.tables.docs} WHERE tenant_id = ? "  # noqa: S608
                "AND last_visit >= ? AND last_visit <= ?",
                (tenant, low, high),
            )
            found.update(key for (key,) in rows)
        return found

    def _publishing(self, db: Db) -> bool:
        """Only the recorded active generation announces (a backfill's is not, yet)."""
        row = db.execute(
            "SELECT active FROM projection_generations WHERE name = ?", (self.name,)
        ).fetchone()
        return row is not None and int(row[0]) == self.generation

    def _refresh(self, db: Db) -> None:
        """Forget the cached definitions when another process (a moved lease) changed them."""
        row = db.execute(f"SELECT value FROM {self.tables.state} "  # noqa: S608
                         "WHERE key = 'definitions'").fetchone()  # fmt: skip
        if (row[0] if row else "0") != self._definitions:
            self._filters, self._definitions = None, row[0] if row else "0"

    def _bump(self, db: Db) -> None:
        version = str(int(self._definitions) + 1)
        db.execute(f"INSERT INTO {self.tables.state} (key, value) "  # noqa: S608
                   "VALUES ('definitions', ?) ON CONFLICT (key) DO UPDATE "
                   "SET value = excluded.value", (version,))  # fmt: skip
        self._definitions = version

    def _tenant_filters(self, db: Db, tenant: str) -> dict[str, SegmentFilter]:
        return self._all_filters(db).setdefault(tenant, {})

    def _all_filters(self, db: Db) -> Filters:
        if self._filters is None:
            found: Filters = {}
            rows = db.execute(f"SELECT segment_id, tenant_id, filter FROM {self.tables.segments} "  # noqa: S608
                              "WHERE removed = 0")  # fmt: skip
            for segment_id, tenant, text in rows:
                found.setdefault(tenant, {})[segment_id] = parse_filter(json.loads(text))
            self._filters = found
        return self._filters
