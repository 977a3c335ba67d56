"""One lock per projection and data dir, held by `customers projections rebuild` for its whole
run: a generation that is neither active nor being built by a live rebuild is left over from a
killed one, and a sweep may drop it (`read_side.generations.ActiveGeneration.sweep`).

An `flock` is released by the kernel when its holder dies, even by `kill -9`, so a killed
rebuild never blocks the sweep that cleans up after it.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def rebuild_lock(data_dir: Path, name: str, *, wait: bool) -> Iterator[bool]:
    """Hold the rebuild lock of `name`; yields False (without waiting) when `wait` is false
    and a live rebuild holds it."""
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
