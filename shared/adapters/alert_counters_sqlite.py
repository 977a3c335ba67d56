"""The security monitor's counters in SQLite: shared by the worker processes of one host.

`customers serve --workers N` on the embedded profile runs N processes; counters and lockouts
kept in each would let a prober go on against the other N-1 after an alert. As the embedded
rate limiter does, every process counts in one small file, `<data dir>/security_counters.db`,
each step in one `BEGIN IMMEDIATE` transaction (SQLite's write lock serialises processes, so
exactly one sees a count reach its threshold). Lockouts are asked about on every request: each
process keeps the live ones in memory and reads them again only when the data dir's change
stamp (`security_counters.stamp`, `shared.adapters.change_stamp`) moved. Nothing in it is
worth an fsync (`synchronous = OFF`: a power cut forgets recent counts, re-opening a window
early). Fails OPEN like the other adapters: on an SQLite error nothing is counted or locked,
and a warning is logged.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from shared.adapters.change_stamp import ChangeStamp
from shared.cooldown import Cooldown

logger = logging.getLogger(__name__)
FILE_NAME = "security_counters.db"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS counts (key TEXT PRIMARY KEY, count INTEGER, ends REAL) "
    "WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS members (key TEXT, member TEXT, ends REAL, "
    "PRIMARY KEY (key, member)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS locks (key TEXT PRIMARY KEY, until REAL) WITHOUT ROWID",
)
T = TypeVar("T")


def _when_unlocked(step: Callable[[], object]) -> None:
    """Retry while SQLite answers "database is locked" at once, without its busy wait
    (another process opening the file: WAL recovery, the journal-mode switch)."""
    for attempt in range(100):
        try:
            step()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == 99:
                raise
            time.sleep(0.01 * min(attempt + 1, 10))


class SqliteAlertCounters:
    """See the module docstring; `AlertCounters` port."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._cooldown = Cooldown(1.0)
        self._steps = 0
        self._stamp = ChangeStamp(path.with_suffix(".stamp"))
        self._locks: dict[str, float] | None = None
        self._seen: bytes | None = None

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> SqliteAlertCounters:
        """The counters every process of this data dir shares."""
        return cls(data_dir / FILE_NAME)

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                self.path, timeout=2.0, isolation_level=None, check_same_thread=False
            )
            _when_unlocked(lambda: db.execute("PRAGMA journal_mode=WAL"))
            db.execute("PRAGMA synchronous=OFF")
            for statement in SCHEMA:
                _when_unlocked(lambda: db.execute(statement))  # noqa: B023 - called at once
            self._db = db
        return self._db

    def _transaction(self, work: Callable[[sqlite3.Connection, float], T]) -> T:
        with self._lock:
            db = self._connection()
            _when_unlocked(lambda: db.execute("BEGIN IMMEDIATE"))
            try:
                now = self._clock()
                result = work(db, now)
                self._steps += 1
                if self._steps % 4096 == 0:
                    for table, column in (
                        ("counts", "ends"),
                        ("members", "ends"),
                        ("locks", "until"),
                    ):
                        db.execute(f"DELETE FROM {table} WHERE {column} <= ?", (now,))  # noqa: S608
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result

    async def _run(self, work: Callable[[sqlite3.Connection, float], T], default: T) -> T:
        if not self._cooldown.ready():
            return default
        try:
            return await asyncio.to_thread(self._transaction, work)
        except sqlite3.Error as error:
            self._cooldown.failed()
            logger.warning("security counters unavailable, not counting: %r", error)
            return default

    async def add(self, key: str, amount: int, window: float) -> int:
        """See `AlertCounters.add`."""

        def work(db: sqlite3.Connection, now: float) -> int:
            row = db.execute("SELECT count, ends FROM counts WHERE key = ?", (key,)).fetchone()
            count, ends = (row[0], row[1]) if row and row[1] > now else (0, now + window)
            db.execute(
                "INSERT OR REPLACE INTO counts VALUES (?, ?, ?)", (key, count + amount, ends)
            )
            return int(count + amount)

        return await self._run(work, 0)

    async def distinct(self, key: str, member: str, window: float) -> tuple[bool, int, float]:
        """See `AlertCounters.distinct` (the set's window starts with its first member)."""

        def work(db: sqlite3.Connection, now: float) -> tuple[bool, int, float]:
            db.execute("DELETE FROM members WHERE key = ? AND ends <= ?", (key, now))
            first = db.execute("SELECT min(ends) FROM members WHERE key = ?", (key,)).fetchone()
            ends = first[0] if first and first[0] is not None else now + window
            added = db.execute(
                "INSERT OR IGNORE INTO members VALUES (?, ?, ?)", (key, member, ends)
            ).rowcount
            size = db.execute("SELECT count(*) FROM members WHERE key = ?", (key,)).fetchone()[0]
            return added == 1, int(size), ends - now

        return await self._run(work, (False, 0, 0.0))

    async def lock(self, key: str, seconds: float) -> None:
        """See `AlertCounters.lock`."""

        def work(db: sqlite3.Connection, now: float) -> None:
            db.execute(
                "INSERT INTO locks VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                "SET until = max(until, excluded.until)",
                (key, now + seconds),
            )

        await self._run(work, None)
        self._locks = None  # read again, with the new lock, on the next request
        self._stamp.touch()  # after the commit: other processes read again too

    async def locked(self, keys: list[str]) -> float:
        """See `AlertCounters.locked`. Every request asks, and lockouts are rare: the live
        locks are kept in memory and read again only when the data dir's change stamp moved
        (another process, or this one, stored a lock since), so a request costs a memory
        read, not a query (~80 µs on this machine class)."""
        if not keys or not self._cooldown.ready():
            return 0.0
        stamp = self._stamp.current()  # before the read: a later lock moves it again
        if self._locks is None or stamp is None or stamp != self._seen:
            try:
                self._locks = await self._live_locks()
            except sqlite3.Error as error:
                self._cooldown.failed()
                logger.warning("security counters unavailable, not refusing: %r", error)
                return 0.0
            self._seen = stamp
        until = max((self._locks.get(key, 0.0) for key in keys), default=0.0)
        return max(0.0, until - self._clock())

    async def _live_locks(self) -> dict[str, float]:
        """Every lock not run out yet: on the event loop when this adapter's lock is free at
        once (one indexed read of a WAL file, which never waits for a writer), else (and for
        the first call, which opens the file) in a thread."""
        sql = "SELECT key, until FROM locks WHERE until > ?"

        def read() -> dict[str, float]:
            rows = self._connection().execute(sql, (self._clock(),)).fetchall()
            return {str(key): float(until) for key, until in rows}

        def in_thread() -> dict[str, float]:
            with self._lock:
                return read()

        if self._db is not None and self._lock.acquire(blocking=False):
            try:
                return read()
            finally:
                self._lock.release()
        return await asyncio.to_thread(in_thread)

    async def aclose(self) -> None:
        """Close the connection."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
        self._stamp.close()
