"""The per-process cache of rendered customers: an entry is served only while the read model
is at the stamp it was rendered from, per tenant, within its byte bound."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from read_side.rendered_cache import Rendered, RenderedCache, ViewStamp, read_stamp
from read_side.sqlite_support import activate, write_checkpoint

NAME = "customer_view"


def read_model(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE projection_checkpoints (name, generation, position, "
               "PRIMARY KEY (name, generation))")  # fmt: skip
    db.execute("CREATE TABLE projection_generations (name PRIMARY KEY, active)")
    return db


def test_the_stamp_is_the_active_generation_and_its_checkpoint(tmp_path: Path) -> None:
    db = read_model(tmp_path / "r.db")
    assert read_stamp(db, NAME) == (1, 0)
    write_checkpoint(db, NAME, 1, 7)
    write_checkpoint(db, NAME, 2, 3)
    assert read_stamp(db, NAME) == (1, 7)
    activate(db, NAME, 2)
    assert read_stamp(db, NAME) == (2, 3)


def test_entries_live_only_while_the_read_model_stays_where_they_were_rendered(
    tmp_path: Path,
) -> None:
    db = read_model(tmp_path / "r.db")
    cache = RenderedCache(ViewStamp(tmp_path / "r.db", NAME))
    ann = Rendered(b'{"firstName":"Ann"}', 1)
    assert cache.rendered("acme", "c1") is None
    cache.keep("acme", "c1", ann, (1, 0))
    assert cache.rendered("acme", "c1") == ann
    assert cache.rendered("other", "c1") is None  # another tenant's key
    write_checkpoint(db, NAME, 1, 5)  # any batch, whichever process projected it
    assert cache.rendered("acme", "c1") is None
    cache.keep("acme", "c1", ann, (1, 0))  # rendered before the move: not kept
    assert cache.rendered("acme", "c1") is None
    cache.keep("acme", "c1", ann, (1, 5))
    assert cache.rendered("acme", "c1") == ann
    activate(db, NAME, 2)  # a rebuild's switch
    assert cache.rendered("acme", "c1") is None
    cache.close()


def test_forget_sweep_and_the_byte_bound(tmp_path: Path) -> None:
    db = read_model(tmp_path / "r.db")
    cache = RenderedCache(ViewStamp(tmp_path / "r.db", NAME), max_bytes=100)
    stamp = (1, 0)
    for number in range(5):
        cache.keep("acme", f"c{number}", Rendered(b"x" * 30, 1), stamp)
    assert cache.rendered("acme", "c0") is None  # evicted: 3 x 30 bytes fit
    assert [cache.rendered("acme", f"c{n}") is not None for n in (2, 3, 4)] == [True] * 3
    asyncio.run(cache.forget("acme", ["c3"]))  # the projecting process, before its checkpoint
    assert cache.rendered("acme", "c3") is None
    write_checkpoint(db, NAME, 1, 9)
    cache.sweep()  # no lookup needed: an idle process drops what the read model moved past
    assert not cache._entries
    cache.close()


def test_no_readable_stamp_no_cache(tmp_path: Path) -> None:
    cache = RenderedCache(ViewStamp(tmp_path / "absent.db", NAME))
    cache.keep("acme", "c1", Rendered(b"{}", 1), (1, 0))
    assert cache.rendered("acme", "c1") is None
    sqlite3.connect(tmp_path / "empty.db").close()
    empty = RenderedCache(ViewStamp(tmp_path / "empty.db", NAME))  # no tables yet
    assert empty.rendered("acme", "c1") is None
    cache.close()
    empty.close()
