"""One lock per projection and data dir, held by `customers projections rebuild` for its whole
run: a generation that is neither active nor being built by a live rebuild is left over from a
killed one, and a sweep may drop it (`read_side.generations.ActiveGeneration.sweep`).

An `flock` is released by the kernel when its holder dies, even by `kill -9`, so a killed
rebuild never blocks the sweep that cleans up after it.

Where processes on several hosts share the read models (`entrypoints.leadership`), the lock is
a PostgreSQL session advisory lock instead (the `where` is then the event store's URL): it
too is released when its holder's connection dies, and every host sees it.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def rebuild_lock(where: Path | str, name: str, *, wait: bool) -> Iterator[bool]:
    """Hold the rebuild lock of `name` (in data dir `where`, or in the PostgreSQL database of
    URL `where`); yields False (without waiting) when `wait` is false and a live rebuild
    holds it."""
    if isinstance(where, str):
        with _advisory_lock(where, name, wait=wait) as held:
            yield held
        return
    data_dir = where
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / f"rebuild-{name}.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _advisory_lock(url: str, name: str, *, wait: bool) -> Iterator[bool]:
    import psycopg

    from shared.adapters.pg_notify import channel_for, conninfo_for

    key = channel_for(url, f"rebuild_{name}")  # per database and schema, like the channels
    with psycopg.connect(conninfo_for(url), autocommit=True) as connection:
        function = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
        row = connection.execute(f"SELECT {function}(hashtext(%s))", (key,)).fetchone()
        held = wait or bool(row and row[0])
        try:
            yield held
        finally:
            if held:
                connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
