"""Writes of the SQLite search index: schema, loading stored documents, replacing a
customer's row, FTS row and per-state count. Runs on the adapter's worker thread, inside the
transaction of `apply`."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass

from read_side.search.model import Entry, entry, restored, stored
from read_side.search.sqlite_query import SORT_COLUMNS, fts_body
from read_side.views import CustomerDoc

Key = tuple[str, str]
_CHUNK = 400  # ids per `IN (...)`, below SQLite's bound-parameter limit


def schema(table: str, *, sort_indexes: bool = True) -> str:
    """The DDL of one generation (idempotent), with the tables shared with the view store;
    without the sort indexes while a rebuild bulk-loads it."""
    t = table
    # The createdAt index also carries the time keys that follow createdAt, so a createdAt
    # range sorted by updatedAt / lastVisitAt is sorted straight from the index.
    indexes = "".join(
        f"CREATE INDEX IF NOT EXISTS {t}_s_{column} ON {t} (tenant_id, state, {column}, id"
        + (", k_updated, k_visit);" if column == "k_created" else ");")
        for column in SORT_COLUMNS.values()
        if sort_indexes
    )
    columns = ", ".join(f"{column} TEXT NOT NULL" for column in SORT_COLUMNS.values())
    return f"""
        CREATE TABLE IF NOT EXISTS projection_checkpoints (name TEXT, generation INTEGER,
            position INTEGER, PRIMARY KEY(name, generation));
        CREATE TABLE IF NOT EXISTS projection_generations (name TEXT PRIMARY KEY,
            active INTEGER);
        CREATE TABLE IF NOT EXISTS {t} (rid INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL,
            id TEXT NOT NULL, version INTEGER NOT NULL, state TEXT NOT NULL, {columns},
            doc TEXT NOT NULL, UNIQUE (tenant_id, id));
        {indexes}
        CREATE TABLE IF NOT EXISTS {t}_counts (tenant_id TEXT NOT NULL, state TEXT NOT NULL,
            n INTEGER NOT NULL, PRIMARY KEY (tenant_id, state)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS {t}_mk (tenant_id TEXT NOT NULL, key TEXT NOT NULL,
            id TEXT NOT NULL, PRIMARY KEY (tenant_id, key, id)) WITHOUT ROWID;
        CREATE VIRTUAL TABLE IF NOT EXISTS {t}_fts USING fts5(body,
            tokenize = "ascii tokenchars '#'", prefix = '1 2 3', detail = none,
            columnsize = 0);
    """


def is_empty(db: sqlite3.Connection, table: str) -> bool:
    """True when the generation holds no customer."""
    return db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None  # noqa: S608


def drop_sort_indexes(db: sqlite3.Connection, table: str) -> None:
    """Drop the sort indexes (`schema` creates them again)."""
    for column in SORT_COLUMNS.values():
        db.execute(f"DROP INDEX IF EXISTS {table}_s_{column}")


def load(db: sqlite3.Connection, table: str, keys: set[Key]) -> dict[Key, tuple[int, CustomerDoc]]:
    """The stored documents (with their row ids) of those customers."""
    by_tenant: dict[str, list[str]] = {}
    for tenant_id, customer_id in keys:
        by_tenant.setdefault(tenant_id, []).append(customer_id)
    found: dict[Key, tuple[int, CustomerDoc]] = {}
    for tenant_id, ids in by_tenant.items():
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            rows = db.execute(
                f"SELECT rid, id, doc FROM {table} "  # noqa: S608
                f"WHERE tenant_id = ? AND id IN ({','.join('?' * len(chunk))})",
                (tenant_id, *chunk),
            )
            for rid, customer_id, text in rows:
                found[(tenant_id, customer_id)] = (rid, restored(json.loads(text)))
    return found


_COLUMNS = ("tenant_id", "id", "version", "state", *SORT_COLUMNS.values(), "doc")


def _row(item: Entry, doc: CustomerDoc) -> list[object]:
    values: list[object] = [item.tenant_id, item.id, item.version, item.state]
    values += [item.sort_keys[key] for key in SORT_COLUMNS]
    values.append(json.dumps(stored(doc), ensure_ascii=False, separators=(",", ":")))
    return values


@dataclass(frozen=True)
class FreshRows:
    """Rows of customers to insert in bulk, prepared off the writer's thread."""

    rows: list[list[object]]
    bodies: list[str]
    counts: Counter[tuple[str, str]]
    keys: list[tuple[str, str, str]]


def fresh_rows(docs: list[CustomerDoc]) -> FreshRows:
    """Rows, FTS bodies and per-state counts of documents (pure)."""
    rows, bodies, counts = [], [], Counter[tuple[str, str]]()
    keys: list[tuple[str, str, str]] = []
    for doc in docs:
        item = entry(doc)
        rows.append(_row(item, doc))
        bodies.append(fts_body(item))
        counts[(item.tenant_id, item.state)] += 1
        keys += ((item.tenant_id, key, item.id) for key in item.match_keys)
    return FreshRows(rows, bodies, counts, keys)


def insert_fresh(db: sqlite3.Connection, table: str, fresh: FreshRows) -> None:
    """Insert rows, FTS rows and counts of customers the table does not hold, in bulk (row
    ids assigned here, so FTS rows need no round trip per customer)."""
    (last,) = db.execute(f"SELECT coalesce(max(rid), 0) FROM {table}").fetchone()  # noqa: S608
    first = int(last) + 1
    marks = ", ".join("?" * (len(_COLUMNS) + 1))
    db.executemany(
        f"INSERT INTO {table} (rid, {', '.join(_COLUMNS)}) VALUES ({marks})",  # noqa: S608
        [[rid, *row] for rid, row in enumerate(fresh.rows, start=first)],
    )
    db.executemany(
        f"INSERT INTO {table}_fts (rowid, body) VALUES (?, ?)",  # noqa: S608
        list(enumerate(fresh.bodies, start=first)),
    )
    db.executemany(
        f"INSERT INTO {table}_counts (tenant_id, state, n) VALUES (?, ?, ?) "  # noqa: S608
        "ON CONFLICT (tenant_id, state) DO UPDATE SET n = n + excluded.n",
        [(tenant_id, state, n) for (tenant_id, state), n in fresh.counts.items()],
    )
    db.executemany(f"INSERT OR IGNORE INTO {table}_mk VALUES (?, ?, ?)", fresh.keys)  # noqa: S608


def write(
    db: sqlite3.Connection,
    table: str,
    rid: int | None,
    old: CustomerDoc | None,
    doc: CustomerDoc | None,
) -> None:
    """Replace a customer's row and FTS row (`doc` None: remove them), and the counts. The FTS
    row and the counts are left alone when they would not change (a visit, a payment)."""
    item = entry(doc) if doc is not None else None
    before = entry(old) if old is not None else None
    body = fts_body(item) if item is not None else None
    same_body = rid is not None and before is not None and body == fts_body(before)
    same_count = (
        item is not None
        and before is not None
        and (item.tenant_id, item.state) == (before.tenant_id, before.state)
    )
    _write_keys(db, table, before, item)
    if not same_count:
        counts = (
            f"INSERT INTO {table}_counts (tenant_id, state, n) VALUES (?, ?, ?) "  # noqa: S608
            "ON CONFLICT (tenant_id, state) DO UPDATE SET n = n + excluded.n"
        )
        if before is not None:
            db.execute(counts, (before.tenant_id, before.state, -1))
        if item is not None:
            db.execute(counts, (item.tenant_id, item.state, 1))
    if rid is not None and not same_body:
        db.execute(f"DELETE FROM {table}_fts WHERE rowid = ?", (rid,))  # noqa: S608
    if item is None or doc is None:
        if rid is not None:
            db.execute(f"DELETE FROM {table} WHERE rid = ?", (rid,))  # noqa: S608
        return
    columns = list(_COLUMNS)
    values = _row(item, doc)
    if rid is None:
        cursor = db.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(columns))})",
            values,
        )
        rid = cursor.lastrowid
    else:
        assignments = ", ".join(f"{column} = ?" for column in columns)
        db.execute(f"UPDATE {table} SET {assignments} WHERE rid = ?", [*values, rid])  # noqa: S608
    if not same_body:
        db.execute(f"INSERT INTO {table}_fts (rowid, body) VALUES (?, ?)", (rid, body))  # noqa: S608


def _write_keys(db: sqlite3.Connection, table: str, old: Entry | None, new: Entry | None) -> None:
    """File the customer under its new match keys and out of the old ones."""
    item = new or old
    was = old.match_keys if old is not None else frozenset()
    now = new.match_keys if new is not None else frozenset()
    if item is None or was == now:
        return
    db.executemany(
        f"DELETE FROM {table}_mk WHERE tenant_id = ? AND key = ? AND id = ?",  # noqa: S608
        [(item.tenant_id, key, item.id) for key in was - now],
    )
    db.executemany(
        f"INSERT OR IGNORE INTO {table}_mk VALUES (?, ?, ?)",  # noqa: S608
        [(item.tenant_id, key, item.id) for key in now - was],
    )
