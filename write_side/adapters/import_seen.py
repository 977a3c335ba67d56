"""The externalIds an import has met so far, in a SQLite scratch file beside its upload.

Finding a row that repeats an earlier row's externalId needs every earlier key: kept in a
dict, that was ~170 bytes per row for the whole file (17 MB per 100,000 rows, and a 100 MB
file holds about a million). Here the keys (8-byte digests) live on disk with a small page
cache, so the import's memory does not grow with the file. The file survives a restart with
the upload (a resumed import finds the rows before its line already there: the same keys at
the same lines, inserted again harmlessly) and is deleted with it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

_PARAMS = 500  # keys per SELECT (SQLite's bound on host parameters is 999 on old builds)


class SQLiteSeenKeys:
    """`first_lines` records keys at their lines and answers each key's first line."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -2048"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS seen (key BLOB PRIMARY KEY, line INTEGER NOT NULL)"
            " WITHOUT ROWID"
        )

    def first_lines(self, keys: Sequence[tuple[bytes, int]]) -> dict[bytes, int]:
        """Record each `(key, line)` unless the key is known; every key's first line. The
        caller sends a chunk's keys in file order, so within it the first occurrence wins."""
        if not keys:
            return {}
        self._db.execute("BEGIN")
        try:
            self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", keys)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        wanted = list(dict.fromkeys(key for key, _ in keys))
        found: dict[bytes, int] = {}
        for start in range(0, len(wanted), _PARAMS):
            part = wanted[start : start + _PARAMS]
            marks = ",".join("?" * len(part))
            rows = self._db.execute(f"SELECT key, line FROM seen WHERE key IN ({marks})", part)  # noqa: S608
            found.update((bytes(key), int(line)) for key, line in rows)
        return found

    def close(self) -> None:
        """Close the file (the caller deletes it once the import is over)."""
        self._db.close()


def open_seen_keys(path: Path) -> SQLiteSeenKeys:
    """The scratch file at `path` (created, or reopened after a restart)."""
    return SQLiteSeenKeys(path)
