"""The read models' SQLite connections bound SQLite's memory for the whole process, so page
caches stop growing with the files (RSS followed the number of customers)."""

from __future__ import annotations

from pathlib import Path

from read_side.sqlite_support import SOFT_HEAP_LIMIT_BYTES, open_connection


def test_a_read_model_connection_sets_the_process_soft_heap_limit(tmp_path: Path) -> None:
    connection = open_connection(tmp_path / "read_models.db")
    try:
        (limit,) = connection.execute("PRAGMA soft_heap_limit").fetchone()
    finally:
        connection.close()
    assert limit == SOFT_HEAP_LIMIT_BYTES
    assert 0 < SOFT_HEAP_LIMIT_BYTES <= 32 * 1024 * 1024
