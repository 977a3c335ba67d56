"""Adapters of the `SearchIndex` port: embedded SQLite (`sqlite_index.SQLiteSearchIndex`, FTS5)
and Redis (`redis_index.RedisSearchIndex`, plain Redis 7 data structures, no modules).

Shared, pure rules live beside them: `text` (normalisation and tokens), `model` (what is
indexed per customer and the validated query plan) and `cursor` (opaque keyset cursors).

Order: ascending sorts by the exact sort key (see `text`), ties by id ascending, customers
without a value last. Descending reverses the customers with a value (ties by id
descending) and still lists those without one last (by id descending): a list sorted by
`-lastVisitAt` starts with the latest visit, not with the customers who never came. Each
direction is at most two plain index scans (the values, then the missing ones).

The adapters are not imported here, so importing this package opens nothing and pulls in
neither sqlite3 nor redis.
"""

from __future__ import annotations

import re
from typing import Protocol

from read_side.ports import ManagedGeneration, SearchIndex

__all__ = ["ManagedSearchIndex", "check_generation", "check_name"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,47}$")


class ManagedSearchIndex(SearchIndex, ManagedGeneration, Protocol):
    """The port plus the generation management both adapters offer (rebuilds, tests)."""


def check_name(name: str) -> str:
    """`name` after checking it is a safe identifier (table names, key segments)."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(f"invalid index name {name!r}")
    return name


def check_generation(generation: int) -> int:
    """`generation` after checking it is a positive integer."""
    if isinstance(generation, bool) or not isinstance(generation, int) or generation < 1:
        raise ValueError(f"generation must be a positive integer, not {generation!r}")
    return generation
