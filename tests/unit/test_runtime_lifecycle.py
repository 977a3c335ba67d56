"""The runtime's lifecycle: everything it opens is closed on stop, and on a start that fails
halfway; the background tasks it creates are kept, cancelled and awaited."""

from __future__ import annotations

import asyncio
import fcntl
from pathlib import Path

import pytest

import entrypoints.runtime as runtime_module
from entrypoints.adapters import ReadAdapters, open_read_adapters
from entrypoints.runtime import Runtime, start_runtime
from read_side.alert_store import SQLiteAlertStore
from shared.settings import Settings
from write_side.adapters.event_store import CustomersApplication, open_event_store

#: a broker nobody listens on: the consumer's start fails and is retried in the background
NO_BROKER = "amqp://guest:guest@127.0.0.1:9/"


def lock_is_free(data_dir: Path) -> bool:
    """True when this process can take the projector lock (nobody holds it)."""
    with open(data_dir / "projectors.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


async def test_a_start_failing_halfway_closes_what_it_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []

    def spied_store(settings: Settings) -> CustomersApplication:
        store = open_event_store(settings)
        close = store.close

        def spied_close() -> None:
            closed.append("store")
            close()

        monkeypatch.setattr(store, "close", spied_close)
        return store

    def spied_read(settings: Settings) -> ReadAdapters:
        read = open_read_adapters(settings)
        close = read.close

        async def spied_close() -> None:
            closed.append("read")
            await close()

        monkeypatch.setattr(read, "close", spied_close)
        return read

    async def fails(_runtime: Runtime) -> None:  # a step after the store, read models and lock
        raise RuntimeError("the sweep failed")

    monkeypatch.setattr(runtime_module, "open_event_store", spied_store)
    monkeypatch.setattr(runtime_module, "open_read_adapters", spied_read)
    monkeypatch.setattr(runtime_module, "sweep_generations", fails)

    with pytest.raises(RuntimeError, match="the sweep failed"):
        await start_runtime(Settings(data_dir=tmp_path))

    assert closed == ["read", "store"]
    assert lock_is_free(tmp_path)


async def test_stop_cancels_and_awaits_every_background_task(tmp_path: Path) -> None:
    before = asyncio.all_tasks()
    settings = Settings(data_dir=tmp_path, amqp_url=NO_BROKER, service_timeout_seconds=0.5)
    runtime = await start_runtime(settings)
    assert runtime.runs_projections
    started = asyncio.all_tasks() - before
    names = {task.get_coro().__qualname__ for task in started}  # type: ignore[union-attr]
    # the retention loop, the alert relay and the consumer's retry (the broker is down)
    assert {"retention_loop", "AlertRelay.run", "start_consumer.<locals>.retry"} <= names

    await runtime.stop()

    assert all(task.done() for task in started)
    assert lock_is_free(tmp_path)


async def test_the_alert_store_closes_only_after_a_query_in_flight(tmp_path: Path) -> None:
    """A stopped relay's query goes on in its worker thread; closing the SQLite connection
    under it crashed the process (a segfault in about one stop in six)."""
    store = SQLiteAlertStore(tmp_path / "read_models.db")
    assert await store.unpublished(10) == []  # the connection is open
    store._lock.acquire()  # a query running in a worker thread
    closing = asyncio.create_task(store.close())
    await asyncio.sleep(0.1)
    assert not closing.done()
    store._lock.release()
    await closing
    assert store._db is None
