"""What the SQLite read-model adapters share: connection set-up and checkpoint reads."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_connection(path: Path) -> sqlite3.Connection:
    """A WAL connection in autocommit mode, used from one worker thread."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA busy_timeout = 10000")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA secure_delete = ON")  # erased values must not linger in pages
    return connection


def read_checkpoint(db: sqlite3.Connection, name: str, generation: int) -> int:
    """The stored position of a projection generation (0 when none)."""
    row = db.execute(
        "SELECT position FROM projection_checkpoints WHERE name = ? AND generation = ?",
        (name, generation),
    ).fetchone()
    return int(row[0]) if row else 0
