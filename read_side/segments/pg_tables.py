"""The PostgreSQL side of the membership store: its DDL (the tables of `tables.py`, in the
event store's schema), the connection wrapper the shared SQL runs on, and one connection pool
per process and event store.

Sort keys, last visits and segment ids are compared and ordered `COLLATE "C"` (byte order),
as SQLite does: a linguistic collation would ignore the `|` and `-` of a sort key and page
members in another order than `GET /customers`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

from read_side.segments.tables import Cursor, Tables
from shared.adapters.pg_notify import conninfo_for

POOL_SIZE = 4  # the fold's thread, the readers' threads, the sweep and the relay
POOL_TIMEOUT_SECONDS = 10.0


def pg_schema(t: Tables) -> list[str]:
    """The DDL of a generation (idempotent), with the shared checkpoint and version tables
    (the checkpoint carries the epoch of the lease it was written under)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {t.docs} (tenant_id text NOT NULL, key text NOT NULL, "
        'position bigint NOT NULL, facts bytea NOT NULL, last_visit text COLLATE "C", '
        'sort_key text COLLATE "C" NOT NULL, doc bytea NOT NULL, PRIMARY KEY (tenant_id, key))',
        f"CREATE INDEX IF NOT EXISTS {t.docs}_visit ON {t.docs} (tenant_id, last_visit)",
        f"CREATE TABLE IF NOT EXISTS {t.segments} (segment_id text PRIMARY KEY, "
        "tenant_id text NOT NULL, filter text NOT NULL, removed integer NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {t.members} (tenant_id text NOT NULL, "
        'segment_id text NOT NULL, customer_id text NOT NULL, sort_key text COLLATE "C" '
        "NOT NULL, PRIMARY KEY (tenant_id, customer_id, segment_id))",
        f"CREATE INDEX IF NOT EXISTS {t.members}_order ON {t.members} "
        "(tenant_id, segment_id, sort_key, customer_id)",
        f"CREATE TABLE IF NOT EXISTS {t.counts} (tenant_id text NOT NULL, "
        'segment_id text COLLATE "C" NOT NULL, count bigint NOT NULL, '
        "PRIMARY KEY (tenant_id, segment_id))",
        f"CREATE TABLE IF NOT EXISTS {t.outbox} (seq bigserial PRIMARY KEY, "
        "tenant_id text NOT NULL, segment_id text NOT NULL, customer_id text NOT NULL, "
        "kind text NOT NULL, version bigint NOT NULL, at text NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {t.state} (key text PRIMARY KEY, value text NOT NULL)",
        "CREATE TABLE IF NOT EXISTS projection_checkpoints (name text NOT NULL, "
        "generation integer NOT NULL, position bigint NOT NULL, epoch bigint, "
        "PRIMARY KEY (name, generation))",
        "CREATE TABLE IF NOT EXISTS projection_generations (name text PRIMARY KEY, "
        "active integer NOT NULL)",
        "CREATE TABLE IF NOT EXISTS projection_versions (name text NOT NULL, "
        "generation integer NOT NULL, version integer NOT NULL, PRIMARY KEY (name, generation))",
    ]


@lru_cache(maxsize=256)
def placeholders(statement: str) -> str:
    """The shared SQL's `?` as psycopg's `%s` (no statement holds a literal `?` or `%`)."""
    return statement.replace("%", "%%").replace("?", "%s")


class PgDb:
    """A pooled connection seen as `tables.Db` (what the shared SQL runs on)."""

    def __init__(self, connection: psycopg.Connection[TupleRow]) -> None:
        self.connection = connection

    def execute(self, statement: str, parameters: Sequence[object] = (), /) -> Cursor:
        """Run one statement; its cursor."""
        return self.connection.execute(placeholders(statement), tuple(parameters))

    def executemany(self, statement: str, parameters: Iterable[Sequence[object]], /) -> None:
        """Run one statement per parameter row (pipelined by psycopg)."""
        rows = [tuple(row) for row in parameters]
        if rows:
            with self.connection.cursor() as cursor:
                cursor.executemany(placeholders(statement), rows)


def schema_of(url: str) -> str:
    """The event store's schema (`?schema=`, else `public`)."""
    return parse_qs(urlsplit(url).query).get("schema", ["public"])[-1]


Pool = ConnectionPool[psycopg.Connection[TupleRow]]
_pools: dict[str, tuple[Pool, int]] = {}
_pools_lock = threading.Lock()


def borrow_pool(url: str) -> Pool:
    """The process's pool for this event store (opened by its first borrower), connections
    in autocommit with the store's schema first on the search path."""
    schema = schema_of(url)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", schema):
        raise ValueError("the event store schema must be a plain SQL identifier")

    def configure(connection: psycopg.Connection[TupleRow]) -> None:
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))

    with _pools_lock:
        pool, users = _pools.get(url, (None, 0))
        if pool is None:
            pool = ConnectionPool(
                conninfo_for(url), min_size=1, max_size=POOL_SIZE, open=True,
                kwargs={"autocommit": True}, configure=configure,
                timeout=POOL_TIMEOUT_SECONDS, name="segments",
            )  # fmt: skip
        _pools[url] = (pool, users + 1)
        return pool


def return_pool(url: str) -> None:
    """Give the pool back; the last borrower closes it."""
    with _pools_lock:
        pool, users = _pools.pop(url, (None, 0))
        if pool is None:
            return
        if users > 1:
            _pools[url] = (pool, users - 1)
            return
    pool.close()
