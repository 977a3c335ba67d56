"""The SQL of the membership store, one generation's tables, synchronous (run on the store's
worker thread inside its transaction). The statements are written once for both adapters
(SQLite and PostgreSQL, `pg_store`): `?` placeholders (the PostgreSQL connection rewrites
them), `ON CONFLICT` upserts, no dialect functions; only the DDL differs.

- `{t}`: one row per customer: the folded document (last: a full evaluation reads only the
  `facts` before it, not its overflow pages), the position of its last event, its last visit
  (the sweep's range) and its `GET /customers` order (`createdAt|id`, newest first);
- `{t}_segments`: the segment definitions as of the checkpoint;
- `{t}_members`: (segment, customer) pairs, with the customer's sort key for paging;
- `{t}_counts`: members per segment, moved with every pair written (an exact count is one read);
- `{t}_outbox`: membership changes waiting for the relay (`segment.member_added` / `_removed`);
- `{t}_state`: when the sweep last ran.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from read_side.views import CustomerDoc

ADDED, REMOVED = "segment.member_added", "segment.member_removed"
_CHUNK = 400
#: What `matches` reads of a document: a full evaluation (a new segment, the sweep) decodes
#: these few fields per customer instead of the whole document.
FACT_KEYS = (
    "id", "state", "type", "firstName", "lastName", "email", "phone", "tags", "attributes",
    "consents", "createdAt", "visitCount", "lastVisitAt", "tier", "preferences",
    "emailDeliverable", "version",
)  # fmt: skip
encode = msgspec.json.Encoder().encode
decode = msgspec.json.Decoder().decode


class Cursor(Protocol):
    """What both drivers' cursors give (rows are tuples of driver values, typed as the
    drivers type them)."""

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Db(Protocol):
    """A connection inside the store's transaction: `sqlite3.Connection`, or the PostgreSQL
    adapter's `pg_store.PgDb`."""

    def execute(self, sql: str, parameters: Sequence[object] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[object]], /) -> object: ...


@dataclass(frozen=True)
class Tables:
    """The table names of one generation (`docs` is the generation's main table)."""

    docs: str

    def __getattr__(self, suffix: str) -> str:
        if suffix.startswith("_"):
            raise AttributeError(suffix)
        return f"{self.docs}_{suffix}"

    @property
    def all(self) -> list[str]:
        """Every table, dropped with the generation."""
        return [self.docs, *(f"{self.docs}_{s}" for s in ("segments", "members", "counts",
                                                             "outbox", "state"))]  # fmt: skip


def schema(t: Tables) -> str:
    """The DDL of a generation (idempotent), with the shared checkpoint and version tables."""
    return f"""
        CREATE TABLE IF NOT EXISTS {t.docs} (
            tenant_id TEXT NOT NULL, key TEXT NOT NULL, position INTEGER NOT NULL,
            facts BLOB NOT NULL, last_visit TEXT, sort_key TEXT NOT NULL, doc BLOB NOT NULL,
            PRIMARY KEY (tenant_id, key));
        CREATE INDEX IF NOT EXISTS {t.docs}_visit ON {t.docs} (tenant_id, last_visit);
        CREATE TABLE IF NOT EXISTS {t.segments} (
            segment_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, filter TEXT NOT NULL,
            removed INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS {t.members} (
            tenant_id TEXT NOT NULL, segment_id TEXT NOT NULL, customer_id TEXT NOT NULL,
            sort_key TEXT NOT NULL, PRIMARY KEY (tenant_id, customer_id, segment_id))
            WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS {t.members}_order ON {t.members}
            (tenant_id, segment_id, sort_key, customer_id);
        CREATE TABLE IF NOT EXISTS {t.counts} (
            tenant_id TEXT NOT NULL, segment_id TEXT NOT NULL, count INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, segment_id));
        CREATE TABLE IF NOT EXISTS {t.outbox} (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT NOT NULL,
            segment_id TEXT NOT NULL, customer_id TEXT NOT NULL, kind TEXT NOT NULL,
            version INTEGER NOT NULL, at TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS {t.state} (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS projection_checkpoints (
            name TEXT NOT NULL, generation INTEGER NOT NULL, position INTEGER NOT NULL,
            PRIMARY KEY (name, generation));
        CREATE TABLE IF NOT EXISTS projection_generations (
            name TEXT PRIMARY KEY, active INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS projection_versions (
            name TEXT NOT NULL, generation INTEGER NOT NULL, version INTEGER NOT NULL,
            PRIMARY KEY (name, generation));
        """


@dataclass
class Row:
    """A customer as the store holds it."""

    doc: CustomerDoc
    position: int


def facts(doc: CustomerDoc) -> CustomerDoc:
    """The part of `doc` a filter reads (payments: the succeeded ones' amounts)."""
    found = {key: doc.get(key) for key in FACT_KEYS}
    found["payments"] = {
        pid: {"status": p.get("status"), "amount": p.get("amount"), "currency": p.get("currency")}
        for pid, p in (doc.get("payments") or {}).items()
        if p.get("status") == "succeeded"
    }
    return found


def sort_key(doc: CustomerDoc) -> str:
    """`GET /customers` order: newest `createdAt` first, then id (descending as text)."""
    return f"{doc.get('createdAt') or ''}|{doc.get('id') or ''}"


def chunks(items: list[str]) -> Iterable[list[str]]:
    """`items` in slices small enough for one `IN (...)`."""
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def load_rows(db: Db, t: Tables, tenant: str, ids: list[str]) -> dict[str, Row]:
    """The stored customers among `ids`."""
    found: dict[str, Row] = {}
    for part in chunks(ids):
        marks = ",".join("?" * len(part))
        rows = db.execute(
            f"SELECT key, position, doc FROM {t.docs} WHERE tenant_id = ? AND key IN ({marks})",  # noqa: S608
            (tenant, *part),
        )
        found.update({key: Row(decode(text), int(pos)) for key, pos, text in rows})
    return found


def write_rows(db: Db, t: Tables, tenant: str, rows: dict[str, Row]) -> None:
    """Store the customers' documents (upsert)."""
    db.executemany(
        f"INSERT INTO {t.docs} "  # noqa: S608
        "(tenant_id, key, position, doc, facts, last_visit, sort_key) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (tenant_id, key) DO UPDATE SET position = excluded.position, "
        "doc = excluded.doc, facts = excluded.facts, last_visit = excluded.last_visit, "
        "sort_key = excluded.sort_key",
        [
            (tenant, key, row.position, encode(row.doc), encode(facts(row.doc)),
             row.doc.get("lastVisitAt"), sort_key(row.doc))
            for key, row in rows.items()
        ],
    )  # fmt: skip


def segments_of(db: Db, t: Tables, tenant: str, ids: list[str]) -> dict[str, set[str]]:
    """The segments each of these customers belongs to now."""
    found: dict[str, set[str]] = {key: set() for key in ids}
    for part in chunks(ids):
        marks = ",".join("?" * len(part))
        rows = db.execute(
            f"SELECT customer_id, segment_id FROM {t.members} "  # noqa: S608
            f"WHERE tenant_id = ? AND customer_id IN ({marks})",
            (tenant, *part),
        )
        for customer_id, segment_id in rows:
            found[customer_id].add(segment_id)
    return found


def members_of(db: Db, t: Tables, tenant: str, segment_id: str) -> set[str]:
    """Every member of one segment."""
    rows = db.execute(
        f"SELECT customer_id FROM {t.members} WHERE tenant_id = ? AND segment_id = ?",  # noqa: S608
        (tenant, segment_id),
    )
    return {customer_id for (customer_id,) in rows}


@dataclass
class Changes:
    """Membership changes of one step, written together (pairs, counts, outbox)."""

    added: list[tuple[str, str, str, str, int]] = field(default_factory=list)
    removed: list[tuple[str, str, str, str, int]] = field(default_factory=list)

    def add(self, tenant: str, segment_id: str, doc: CustomerDoc) -> None:
        """`doc`'s customer joins the segment."""
        self.added.append(_pair(tenant, segment_id, doc))

    def remove(self, tenant: str, segment_id: str, doc: CustomerDoc) -> None:
        """`doc`'s customer leaves the segment."""
        self.removed.append(_pair(tenant, segment_id, doc))

    def __len__(self) -> int:
        return len(self.added) + len(self.removed)

    def write(self, db: Db, t: Tables, *, publish: bool, at: str) -> None:
        """Store the pairs, move the counts and (for the serving generation) fill the outbox."""
        db.executemany(
            f"INSERT INTO {t.members} (tenant_id, segment_id, customer_id, sort_key) "  # noqa: S608
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [pair[:4] for pair in self.added],
        )
        db.executemany(
            f"DELETE FROM {t.members} WHERE tenant_id = ? AND segment_id = ? AND customer_id = ?",  # noqa: S608
            [pair[:3] for pair in self.removed],
        )
        moved: Counter[tuple[str, str]] = Counter()
        for tenant, segment_id, *_ in self.added:
            moved[(tenant, segment_id)] += 1
        for tenant, segment_id, *_ in self.removed:
            moved[(tenant, segment_id)] -= 1
        db.executemany(
            f"INSERT INTO {t.counts} AS c (tenant_id, segment_id, count) VALUES (?, ?, ?) "  # noqa: S608
            "ON CONFLICT (tenant_id, segment_id) DO UPDATE SET count = c.count + excluded.count",
            [(tenant, segment_id, delta) for (tenant, segment_id), delta in moved.items()],
        )
        if publish:
            db.executemany(
                f"INSERT INTO {t.outbox} (tenant_id, segment_id, customer_id, kind, version, at) "  # noqa: S608
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(*pair[:3], ADDED, pair[4], at) for pair in self.added]
                + [(*pair[:3], REMOVED, pair[4], at) for pair in self.removed],
            )


def _pair(tenant: str, segment_id: str, doc: CustomerDoc) -> tuple[str, str, str, str, int]:
    return tenant, segment_id, str(doc["id"]), sort_key(doc), int(doc.get("version") or 0)
