"""The chain PostgreSQL computes (`customers_chain_v1`, in the events' transaction) is byte for
byte the chain `audit_chain.chain_rows` defines: batches that start aggregates, continue them,
and hold several events of one aggregate, compared row by row with the Python computation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent

from shared.settings import Settings
from write_side.adapters.event_store import CustomersApplication, open_event_store
from write_side.application.audit_chain import ChainRow, chain_rows


class Note(Aggregate):
    """A small aggregate of its own: the chain covers every aggregate of the log."""

    def __init__(self, text: str) -> None:
        self.text = text

    @event("Edited")
    def edit(self, text: str) -> None:
        self.text = text


@pytest.fixture
def store(postgres_schema_url: str, tmp_path: Path) -> Iterator[CustomersApplication]:
    settings = Settings(
        data_dir=tmp_path,
        event_store_url=postgres_schema_url,
        audit_key="audit-test-key",
        audit_seal_events=3,
    )
    app = open_event_store(settings)
    yield app
    app.close()


def stored_chain(app: CustomersApplication) -> list[ChainRow]:
    schema = app.recorder.datastore.schema  # type: ignore[attr-defined]
    with app.recorder.datastore.get_connection() as connection:  # type: ignore[attr-defined]
        rows = connection.execute(
            "SELECT position, originator_id, originator_version, hash, log_hash"  # noqa: S608
            f' FROM "{schema}".event_chain ORDER BY position'
        ).fetchall()
    return [
        ChainRow(
            r["position"], r["originator_id"], r["originator_version"], r["hash"], r["log_hash"]
        )
        for r in rows
    ]


def python_chain(app: CustomersApplication) -> list[ChainRow]:
    notifications = app.recorder.select_notifications(1, 10_000)
    stored = [
        StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in notifications
    ]
    return chain_rows(stored, [n.id for n in notifications], {}, None)


def test_the_database_chains_exactly_as_the_definition(store: CustomersApplication) -> None:
    first, second = Note("a"), Note("b")
    first.edit("a2")
    first.edit("a3")
    store.save(first, second)  # a new aggregate with three events, another with one
    third = Note("c")
    third.edit("c2")
    first.edit("a4")
    second.edit("b2")
    store.save(third, first, second)  # continuing aggregates beside a new one
    second.edit("b3")
    store.save(second)

    stored = stored_chain(store)
    assert len(stored) == 9
    assert stored == python_chain(store)
    report = store.audit.verify()
    assert report.ok, report.finding
    assert report.events == 9
    assert report.checkpoints >= 2  # sealed every 3 events, from the database's answer


def test_an_empty_save_chains_nothing(store: CustomersApplication) -> None:
    store.save(Note("x"))
    store.save()
    assert [row.version for row in stored_chain(store)] == [1]
    assert store.audit.verify().ok
