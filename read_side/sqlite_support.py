"""What the SQLite read-model adapters share: connection set-up, transactions, checkpoints and
the generation pointer (tables `projection_checkpoints` and `projection_generations`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

#: SQLite's memory for the whole process (all connections, the event store's too), a soft
#: bound: past it, page caches recycle their pages instead of growing. Without it each of the
#: ~20 connections of an embedded `serve` grew its cache to 2 MB as the files grew, so RSS
#: followed the number of customers (docs/benchmarks.md, "Memory as data grows"); the pages
#: not kept here are still in the operating system's file cache.
SOFT_HEAP_LIMIT_BYTES = 16 * 1024 * 1024


def open_connection(path: Path) -> sqlite3.Connection:
    """A WAL connection in autocommit mode, used from one worker thread."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute(f"PRAGMA soft_heap_limit = {SOFT_HEAP_LIMIT_BYTES}")
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


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """`BEGIN IMMEDIATE` (take the write lock first: no upgrade deadlocks) ... COMMIT."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def write_checkpoint(db: sqlite3.Connection, name: str, generation: int, position: int) -> None:
    """Store a projection generation's position; it only moves forward."""
    db.execute(
        "INSERT INTO projection_checkpoints (name, generation, position) VALUES (?, ?, ?) "
        "ON CONFLICT (name, generation) DO UPDATE "
        "SET position = max(position, excluded.position)",
        (name, generation, position),
    )


def activate(db: sqlite3.Connection, name: str, generation: int) -> None:
    """Make `generation` the active one of `name`."""
    db.execute(
        "INSERT INTO projection_generations (name, active) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET active = excluded.active",
        (name, generation),
    )


def active_generation(db: sqlite3.Connection, name: str) -> int:
    """The active generation of `name` (1 when none was recorded)."""
    row = db.execute("SELECT active FROM projection_generations WHERE name = ?", (name,)).fetchone()
    return int(row[0]) if row else 1


def drop_generation(
    db: sqlite3.Connection, name: str, generation: int, tables: Sequence[str]
) -> None:
    """Drop a generation's tables and delete its checkpoint, in one transaction."""
    with transaction(db):
        for table in tables:
            db.execute(f"DROP TABLE IF EXISTS {table}")
        db.execute(
            "DELETE FROM projection_checkpoints WHERE name = ? AND generation = ?",
            (name, generation),
        )
