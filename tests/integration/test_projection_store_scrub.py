"""An added projection's SQLite store scrubs an erasure's batch from the file's write-ahead
log before its checkpoint passes it, as the view store does: the clean-clone CI found an
erased customer's timezone and quiet hours in `read_models.db-wal`, written by the
contactability projection after the view store had already emptied the log."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from read_side.events import EventEnvelope
from read_side.projections.api import Documents
from read_side.projections.sqlite_store import SQLiteProjectionStore

SECRET_ZONE = "Pacific/Chatham"


class ZoneBook:
    """Keeps a customer's timezone (a personal value) until the customer is erased."""

    name = "zone_book"
    version = 1
    events = frozenset({"customer.created", "customer.erased"})
    description = "a personal value, dropped at erasure"

    def keys(self, event: EventEnvelope) -> Iterable[str]:
        return (event.customer_id,)

    def apply(self, event: EventEnvelope, docs: Documents) -> None:
        doc = docs[event.customer_id]
        if event.type == "customer.created":
            doc["zone"] = SECRET_ZONE * 50  # a page's worth, so the WAL keeps it
        else:
            doc.clear()


def envelope(position: int, kind: str) -> EventEnvelope:
    data = {"customer_type": "new", "profile": {}} if kind == "customer.created" else {}
    return EventEnvelope(position, f"e{position}", kind, "c1", position, datetime.now(UTC),
                         "acme", data=data)  # fmt: skip


async def test_an_erasure_leaves_no_page_image_in_the_write_ahead_log(tmp_path: Path) -> None:
    path = tmp_path / "read_models.db"
    store = SQLiteProjectionStore(path, ZoneBook())
    await store.apply([envelope(1, "customer.created")], 1)
    assert SECRET_ZONE.encode() in path.with_name(path.name + "-wal").read_bytes()
    await store.apply([envelope(2, "customer.erased")], 2)
    assert await store.checkpoint() == 2
    for file in tmp_path.iterdir():
        assert SECRET_ZONE.encode() not in file.read_bytes(), file.name
    await store.close()
