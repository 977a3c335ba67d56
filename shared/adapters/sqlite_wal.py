"""Emptying a SQLite write-ahead log after an erasure.

In WAL mode SQLite appends new page images to `<db>-wal` and copies them into the database on
a checkpoint, but the log file keeps old frames (with erased names, or a shredded data key)
until it is restarted. `PRAGMA wal_checkpoint(TRUNCATE)` copies every frame back and cuts the
log to zero bytes; with `secure_delete` on, the database pages then hold no freed value either.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

logger = logging.getLogger(__name__)


class HasCursor(Protocol):
    """A `sqlite3.Connection`, or the eventsourcing library's wrapper of one."""

    def cursor(self) -> Any: ...


def truncate_wal(connection: HasCursor, *, attempts: int = 5) -> bool:
    """Checkpoint and truncate the log; True when done. A reader still using old frames makes
    SQLite answer busy: retry briefly, then give up with a warning (the next erasure, or the
    automatic checkpoint, overwrites those frames) rather than stall the caller."""
    for attempt in range(attempts):
        cursor = connection.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy, _, _ = cursor.fetchone()
        if not busy:
            return True
        time.sleep(0.02 * (attempt + 1))
    logger.warning("sqlite write-ahead log not truncated after an erasure: readers kept it busy")
    return False
