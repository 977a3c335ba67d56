"""Adapters of the `CustomerViewStore` port: embedded SQLite (`sqlite_store.SQLiteViewStore`)
and MongoDB / FerretDB (`mongo_store.MongoViewStore`).

Both work on one *generation* of the read model (a table / collection suffix) so a rebuild
can fill generation N+1 while N serves, then `activate()` it and `drop()` the old one.
The adapters are not imported here, so importing this package opens nothing and pulls in
neither sqlite3 nor pymongo.
"""

from __future__ import annotations

import re
from typing import Protocol

from read_side.ports import CustomerViewStore, ManagedGeneration

__all__ = ["ManagedViewStore", "table_name"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,47}$")


class ManagedViewStore(CustomerViewStore, ManagedGeneration, Protocol):
    """The port plus the generation management both adapters offer (rebuilds, tests)."""

    async def count(self) -> int:
        """How many documents this generation holds."""
        ...

    async def loyalty_due(self, cutoff: str) -> list[tuple[str, str]]:
        """(tenantId, id) of customers whose unspent points expire at or before `cutoff`."""
        ...


def table_name(name: str, generation: int) -> str:
    """`{name}_g{generation}`, after checking both are safe as a table / collection name."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"invalid read-model name {name!r}")
    if isinstance(generation, bool) or not isinstance(generation, int) or generation < 1:
        raise ValueError(f"generation must be a positive integer, not {generation!r}")
    return f"{name}_g{generation}"
