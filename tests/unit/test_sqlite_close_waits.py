"""Closing a SQLite store waits for the query running in its worker thread.

`close()` used to free the connection at once; a request still being answered in a thread at
shutdown then ran on freed memory (pytest died with a segmentation fault). Holding the store's
lock stands for that query: close must not close the connection until it is released.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from read_side.access_audit import SQLiteAccessAudit
from read_side.alert_store import SQLiteAlertStore


def _stores(tmp_path: Path) -> list[Any]:
    return [
        SQLiteAlertStore(tmp_path / "alerts.db"),
        SQLiteAccessAudit(tmp_path / "access.db", b"k" * 32),
    ]


@pytest.mark.parametrize("index", [0, 1], ids=["alert_store", "access_audit"])
def test_close_waits_for_the_query_in_flight(tmp_path: Path, index: int) -> None:
    async def scenario() -> None:
        store = _stores(tmp_path)[index]
        if index == 0:
            await store.recent("acme", False, 1)
        else:
            await store.verify("acme")
        assert store._db is not None
        store._lock.acquire()  # a query running in the worker thread
        closing = asyncio.create_task(store.close())
        await asyncio.sleep(0.2)
        assert store._db is not None and not closing.done()
        store._db.execute("SELECT 1").fetchall()  # still open for the query in flight
        store._lock.release()
        await asyncio.wait_for(closing, 5)
        assert store._db is None

    asyncio.run(scenario())
