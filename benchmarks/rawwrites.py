"""Raw bulk-write rates of the projection sinks' stores: the store alone, with every value
prepared beforehand (SQLite `executemany` of JSON rows, of search rows plus FTS rows; Mongo
`insert_many`; a Redis pipeline of HSETs). Figures are per second of wall time."""

from __future__ import annotations

import json
import random
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from read_side.search import sqlite_write
from read_side.search.model import entry, stored
from read_side.search.redis_keys import Keys
from read_side.search.sqlite_query import SORT_COLUMNS, fts_body
from read_side.store.mongo_store import _escape
from read_side.views import CustomerDoc

_VIEW_TABLE = (
    "CREATE TABLE {t} (id TEXT NOT NULL, tenant_id TEXT NOT NULL, version INTEGER NOT NULL, "
    "doc TEXT NOT NULL, PRIMARY KEY (tenant_id, id))"
)


def _ids(count: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]


def _sqlite(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    return db


def _chunked(
    db: sqlite3.Connection, count: int, batch: int, write: Callable[[int, int], None]
) -> float:
    """Seconds to call `write(start, end)` per chunk, one transaction each."""
    started = time.perf_counter()
    for start in range(0, count, batch):
        db.execute("BEGIN IMMEDIATE")
        write(start, min(count, start + batch))
        db.execute("COMMIT")
    return time.perf_counter() - started


def sqlite_json_rows(path: Path, docs: Sequence[CustomerDoc], count: int, batch: int) -> float:
    """Rows/s of `executemany` of `count` JSON documents (view-store table shape)."""
    db = _sqlite(path)
    db.execute(_VIEW_TABLE.format(t="raw_view"))
    texts = [json.dumps(doc, ensure_ascii=False) for doc in docs]
    rows = [(cid, f"tenant{i % 10}", 3, texts[i % len(texts)]) for i, cid in enumerate(_ids(count))]
    sql = "INSERT INTO raw_view (id, tenant_id, version, doc) VALUES (?, ?, ?, ?)"

    def write(a: int, b: int) -> None:
        db.executemany(sql, rows[a:b])

    seconds = _chunked(db, count, batch, write)
    db.close()
    return count / seconds


def sqlite_search_rows(path: Path, docs: Sequence[CustomerDoc], count: int, batch: int) -> float:
    """Rows/s of `executemany` of `count` search rows + FTS rows (search-index table shape,
    indexes included), values prepared beforehand."""
    db = _sqlite(path)
    db.executescript(sqlite_write.schema("raw_search"))
    prepared = []
    for doc in docs:
        item = entry(doc)
        keys = [item.sort_keys[key] for key in SORT_COLUMNS]
        text = json.dumps(stored(doc), ensure_ascii=False, separators=(",", ":"))
        prepared.append((item.tenant_id, item.version, item.state, keys, text, fts_body(item)))
    rows, fts = [], []
    for i, cid in enumerate(_ids(count)):
        tenant, version, state, keys, text, body = prepared[i % len(prepared)]
        rows.append((i + 1, tenant, cid, version, state, *keys, text))
        fts.append((i + 1, body))
    columns = ["rid", "tenant_id", "id", "version", "state", *SORT_COLUMNS.values(), "doc"]
    insert = (
        f"INSERT INTO raw_search ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({', '.join('?' * len(columns))})"
    )

    def write(a: int, b: int) -> None:
        db.executemany(insert, rows[a:b])
        db.executemany("INSERT INTO raw_search_fts (rowid, body) VALUES (?, ?)", fts[a:b])

    seconds = _chunked(db, count, batch, write)
    db.close()
    return count / seconds


async def mongo_raw(database: Any, docs: Sequence[CustomerDoc], count: int) -> tuple[float, float]:
    """(docs/s of `insert_many` of `count` documents in chunks of 1,000, then the seconds of
    one `find({_id: {$in: 2,000 keys}})` on that collection — the read `apply` makes per batch)."""
    collection = database["raw_docs"]
    payload = [
        {"_id": f"raw:{cid}", **_escape(docs[i % len(docs)])} for i, cid in enumerate(_ids(count))
    ]
    started = time.perf_counter()
    for start in range(0, count, 1000):
        await collection.insert_many(payload[start : start + 1000], ordered=False)
    rate = count / (time.perf_counter() - started)
    keys = [d["_id"] for d in random.Random(5).sample(payload, min(2000, count))]
    started = time.perf_counter()
    found = [d async for d in collection.find({"_id": {"$in": keys}})]
    find_seconds = time.perf_counter() - started
    assert len(found) == len(keys)
    await collection.drop()
    return rate, find_seconds


async def redis_hsets(client: Any, prefix: str, count: int, batch: int = 2000) -> float:
    """Commands/s of pipelines (no MULTI) of `count` single-field HSETs."""
    ids = _ids(count)
    started = time.perf_counter()
    for start in range(0, count, batch):
        async with client.pipeline(transaction=False) as pipe:
            for i in range(start, min(count, start + batch)):
                pipe.hset(f"{prefix}raw:{i % 64}", ids[i], "0smith\x00" + ids[i])
            await pipe.execute()
    return count / (time.perf_counter() - started)


def redis_entries_per_customer(docs: Sequence[CustomerDoc]) -> float:
    """Average set members + lex-zset members + sort-hash fields written per new customer."""
    keys = Keys("x", "search", 1)
    sample = docs[:2000]
    total = 0
    for doc in sample:
        item = entry(doc)
        total += len(keys.sets(item)) + len(keys.lex_members(item)) + 1 + len(item.sort_keys)
    return total / max(1, len(sample))
