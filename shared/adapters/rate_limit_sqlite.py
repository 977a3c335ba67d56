"""The SQLite rate limiter: exact across the processes of one host that share a data dir.

`customers serve --workers N` on the embedded profile runs N processes; counters kept in each
process admitted up to N times the limit. Here every process counts in one small table of
`<data dir>/rate_limits.db`, checking and incrementing inside one `BEGIN IMMEDIATE`
transaction (SQLite's write lock serialises the processes, so no two hits read the same count).

The hot path is kept cheap: the file holds nothing worth keeping across a crash, so
`synchronous = OFF` skips the fsync of each commit (a power cut may forget the last counts,
which only re-opens a window early); the windows live in a database of their own, so a hit never
waits on the read models' or the event store's write lock; and a hit runs on the event loop
with a lock that must be free at once (tens of microseconds, cheaper than a hand-off to a
thread). Only when another process holds the lock does the hit move to this limiter's own
thread, whose connection waits for it up to `busy_seconds`: the event loop never sleeps on it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shared.cooldown import Cooldown
from shared.http.rate_limit import UNCHECKED, Decision, Quota, decide

logger = logging.getLogger(__name__)
FILE_NAME = "rate_limits.db"
TABLE = "rate_limit_windows"
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    "key TEXT PRIMARY KEY, count INTEGER NOT NULL, ends_ms INTEGER NOT NULL) WITHOUT ROWID"
)
PURGE_EVERY = 4096  # hits of one process between deletions of ended windows
INLINE_PAUSES = (0.0, 0.001)  # seconds yielded to other tasks after each busy inline attempt


class SqliteRateLimiter:
    """Counters in a SQLite table shared by every process that opens the same file.

    Fails OPEN like the Redis adapter: when SQLite errs (a lock held past `busy_seconds`, a full
    disk) the hit is admitted unchecked, a warning is logged and the file is left alone for
    `backoff_seconds`: a broken limiter must not turn into an outage of the API.
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        busy_seconds: float = 2.0,
        backoff_seconds: float = 1.0,
    ) -> None:
        self.path = path
        self._clock = clock
        self._busy_ms = int(busy_seconds * 1000)
        self._cooldown = Cooldown(backoff_seconds)
        self._executor = _executor()
        self._inline: sqlite3.Connection | None = None  # event loop thread; never waits
        self._waiting: sqlite3.Connection | None = None  # executor thread; waits for the lock
        self._hits = 0

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> SqliteRateLimiter:
        """The limiter every process serving `data_dir` shares."""
        return cls(data_dir / FILE_NAME)

    async def hit(self, quotas: Sequence[Quota]) -> Decision:
        """See `RateLimiter.hit`; admits unchecked while the file is unusable."""
        if not quotas or not self._cooldown.ready():
            return UNCHECKED
        try:
            if self._inline is None:
                self._inline = self._connect(0)
            for pause in INLINE_PAUSES:
                try:
                    return self._hit(self._inline, quotas)
                except sqlite3.OperationalError as exc:
                    if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # primary code
                        raise
                await asyncio.sleep(pause)  # the holder commits within microseconds, mostly
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, self._hit_waiting, list(quotas))
        except sqlite3.Error as exc:
            self._cooldown.failed()
            logger.warning("rate limiter unavailable, admitting requests unchecked: %r", exc)
            return UNCHECKED

    def _connect(self, busy_ms: int) -> sqlite3.Connection:
        """Set up with the full wait (once per connection), then wait `busy_ms` per hit."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = OFF")
        db.execute(SCHEMA)
        db.execute(f"PRAGMA busy_timeout = {busy_ms}")
        return db

    def _hit_waiting(self, quotas: Sequence[Quota]) -> Decision:
        if self._waiting is None:
            self._waiting = self._connect(self._busy_ms)
        return self._hit(self._waiting, quotas)

    def _hit(self, db: sqlite3.Connection, quotas: Sequence[Quota]) -> Decision:
        """One transaction: read every quota's window, count the hit in all or none."""
        keys = [quota.key for quota in quotas]
        db.execute("BEGIN IMMEDIATE")
        try:
            now = int(self._clock() * 1000)
            marks = ",".join("?" * len(keys))  # placeholders only: the keys are bound
            query = f"SELECT key, count, ends_ms FROM {TABLE} WHERE key IN ({marks})"  # noqa: S608
            rows = db.execute(query, keys).fetchall()
            stored = {key: (count, ends) for key, count, ends in rows}
            states = []
            for quota in quotas:
                count, ends = stored.get(quota.key, (0, 0))
                window_ms = quota.window_seconds * 1000
                fresh = ends <= now or ends > now + window_ms  # ended, or a clock stepped back
                states.append((0, now + window_ms) if fresh else (count, ends))
            allowed = all(count < q.limit for (count, _), q in zip(states, quotas, strict=True))
            if allowed:
                states = [(count + 1, ends) for count, ends in states]
                db.executemany(
                    "INSERT OR REPLACE INTO rate_limit_windows (key, count, ends_ms) "
                    "VALUES (?, ?, ?)",
                    [(key, count, ends) for key, (count, ends) in zip(keys, states, strict=True)],
                )
            self._hits += 1
            if self._hits % PURGE_EVERY == 0:
                db.execute("DELETE FROM rate_limit_windows WHERE ends_ms <= ?", (now,))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return decide(quotas, allowed, [(count, float(ends - now)) for count, ends in states])

    async def aclose(self) -> None:
        """Close both connections, each on its own thread, then stop the thread.

        The limiter stays usable (it reconnects on the next hit): an app's lifespan can run
        again in the same process — test clients restart it per test — and a second close,
        or a hit after it, must not fail on a stopped thread."""
        loop = asyncio.get_running_loop()
        executor, self._executor = self._executor, _executor()
        await loop.run_in_executor(executor, self._close_waiting)
        executor.shutdown(wait=True)
        if self._inline is not None:
            self._inline.close()
            self._inline = None

    def _close_waiting(self) -> None:
        if self._waiting is not None:
            self._waiting.close()
            self._waiting = None


def _executor() -> ThreadPoolExecutor:
    """One thread for the hits that wait for the file lock (started on first use)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="rate-limit")
