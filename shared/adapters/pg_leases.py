"""Leases in PostgreSQL: one row per lease in the event store's schema, granted to one holder
until it stops renewing (issue 16 A.1).

`customers_leases(name, holder, epoch, expires_at)`. A holder takes a lease that is free or
expired (or already its own) and the epoch grows by one with each grant; it renews before the
lease expires; a clean stop expires it at once. Expiry is judged on the database's clock
(`clock_timestamp()`), so hosts' clocks never have to agree. A killed holder's lease expires
`ttl` seconds after its last renewal, and another process takes it within its next attempt.

Why rows and not advisory locks: an advisory lock lives as long as its session, and a paused
process (SIGSTOP, a frozen VM) keeps its session, so its projections would stall forever; a
row with a heartbeat expires, and the epoch it carries fences the late writes of the paused
holder when it wakes (`shared.fencing`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import parse_qs, urlsplit

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from shared.adapters.pg_notify import conninfo_for

logger = logging.getLogger(__name__)
TABLE = "customers_leases"
STATEMENT_TIMEOUT_MS = 2000

_CREATE = (
    "CREATE TABLE IF NOT EXISTS {table} (name text PRIMARY KEY, holder text NOT NULL, "
    "epoch bigint NOT NULL, expires_at timestamptz NOT NULL)"
)
_ACQUIRE = (
    "INSERT INTO {table} AS l (name, holder, epoch, expires_at) "
    "VALUES (%(name)s, %(holder)s, 1, clock_timestamp() + %(ttl)s * interval '1 second') "
    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, epoch = l.epoch + 1, "
    "expires_at = excluded.expires_at "
    "WHERE l.expires_at < clock_timestamp() OR l.holder = excluded.holder RETURNING epoch"
)
_RENEW = (
    "UPDATE {table} SET expires_at = clock_timestamp() + %(ttl)s * interval '1 second' "
    "WHERE name = %(name)s AND holder = %(holder)s AND epoch = %(epoch)s RETURNING epoch"
)
_RELEASE = (
    "UPDATE {table} SET expires_at = '-infinity' "
    "WHERE name = %(name)s AND holder = %(holder)s AND epoch = %(epoch)s"
)
_LIVE = (
    "WITH gone AS (DELETE FROM {table} WHERE name LIKE %(pattern)s "
    "AND expires_at < clock_timestamp() - interval '1 hour') "
    "SELECT count(*) FROM {table} WHERE name LIKE %(pattern)s AND expires_at > clock_timestamp()"
)
_HOLDERS = "SELECT name, holder, epoch, expires_at > clock_timestamp() FROM {table} ORDER BY name"


class PgLeases:
    """The leases of one process (`holder`), on one connection of their own (reopened after
    a failure). Every call is bounded by a statement timeout; a failed renewal is reported as
    a lost lease by the caller's deadline, never waited on."""

    def __init__(self, url: str, holder: str, *, ttl: float = 6.0) -> None:
        self.holder = holder
        self.ttl = ttl
        self._conninfo = conninfo_for(url)
        schema = parse_qs(urlsplit(url).query).get("schema", ["public"])[-1]
        self._table = sql.Identifier(schema, TABLE)
        self._connection: psycopg.AsyncConnection[TupleRow] | None = None
        self._lock = asyncio.Lock()

    async def acquire(self, name: str, ttl: float | None = None) -> int | None:
        """The new epoch when the lease was free, expired or ours; None while another holds it.
        It lasts `ttl` seconds (default: the object's) unless renewed."""
        row = await self._one(_ACQUIRE, name=name, holder=self.holder, ttl=ttl or self.ttl)
        return int(row[0]) if row else None

    async def renew(self, name: str, epoch: int, ttl: float | None = None) -> bool:
        """Extend the lease by `ttl`; False when it is no longer ours at that epoch."""
        row = await self._one(
            _RENEW, name=name, holder=self.holder, epoch=epoch, ttl=ttl or self.ttl
        )
        return row is not None

    async def release(self, name: str, epoch: int) -> None:
        """Let the lease go at once (another process may take it on its next attempt)."""
        await self._one(_RELEASE, name=name, holder=self.holder, epoch=epoch)

    async def live(self, prefix: str) -> int:
        """How many leases named `prefix…` are held now (and forget those dead for an hour:
        each process start adds a `member:` lease)."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        row = await self._one(_LIVE, pattern=pattern)
        return int(row[0]) if row else 0

    async def holders(self) -> list[tuple[str, str, int, bool]]:
        """(name, holder, epoch, live) of every lease ever granted."""
        async with self._lock:
            connection = await self._connect()
            cursor = await connection.execute(sql.SQL(_HOLDERS).format(table=self._table))
            return [(str(r[0]), str(r[1]), int(r[2]), bool(r[3])) for r in await cursor.fetchall()]

    async def close(self) -> None:
        """Close the connection (a later call opens another)."""
        async with self._lock:
            if self._connection is not None:
                await self._connection.close()
                self._connection = None

    async def _one(self, statement: str, **params: str | float) -> TupleRow | None:
        async with self._lock:
            try:
                connection = await self._connect()
                query = sql.SQL(statement).format(table=self._table)
                cursor = await connection.execute(query, params)
                return await cursor.fetchone() if cursor.description else None
            except psycopg.Error:
                await self._drop()
                raise

    async def _connect(self) -> psycopg.AsyncConnection[TupleRow]:
        if self._connection is None or self._connection.closed:
            self._connection = await psycopg.AsyncConnection.connect(
                self._conninfo,
                autocommit=True,
                connect_timeout=max(1, int(self.ttl / 3)),
                options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            )
            # another process may create it meanwhile
            with contextlib.suppress(psycopg.errors.UniqueViolation):
                await self._connection.execute(sql.SQL(_CREATE).format(table=self._table))
        return self._connection

    async def _drop(self) -> None:
        if self._connection is not None:
            try:
                await self._connection.close()
            finally:
                self._connection = None
