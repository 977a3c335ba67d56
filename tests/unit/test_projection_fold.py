"""The batch fold under every projection store: each event reaches each document once, in
log order, whatever subset of the batch's documents was already written before a crash."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from read_side.events import EventEnvelope
from read_side.projections.api import Documents
from read_side.projections.fold import DocKey, Stored, fold


class Recorder:
    """Appends each event's position to two documents (the order is kept)."""

    name = "seq"
    version = 1
    description = "test"
    events = frozenset({"customer.created"})

    def keys(self, event: EventEnvelope) -> Iterable[str]:
        return ("all", f"c:{event.customer_id}")

    def apply(self, event: EventEnvelope, docs: Documents) -> None:
        for doc in docs.values():
            doc.setdefault("seen", []).append(event.position)


def event(position: int, customer: str) -> EventEnvelope:
    return EventEnvelope(
        position=position, event_id=str(position), type="customer.created",
        customer_id=customer, version=1, occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        tenant_id="acme",
    )  # fmt: skip


@given(
    customers=st.lists(st.sampled_from("abc"), min_size=1, max_size=12),
    written=st.sets(st.sampled_from(["all", "c:a", "c:b", "c:c"])),
)
def test_a_partly_written_batch_reapplied_gives_the_same_documents(
    customers: list[str], written: set[str]
) -> None:
    projection = Recorder()
    batch = [event(index + 1, customer) for index, customer in enumerate(customers)]
    once = fold(projection, batch, {})
    stored: dict[DocKey, Stored] = {k: v for k, v in once.items() if k[1] in written}
    again = fold(projection, batch, stored)
    final = {**stored, **again}
    assert {k: v.doc for k, v in final.items()} == {k: v.doc for k, v in once.items()}
    assert once[("acme", "all")].doc["seen"] == list(range(1, len(customers) + 1))


def test_the_stored_documents_are_not_modified() -> None:
    stored = {("acme", "all"): Stored({"seen": [1]}, 1)}
    fold(Recorder(), [event(2, "a")], stored)
    assert stored[("acme", "all")].doc == {"seen": [1]}


def test_an_owned_fold_changes_the_stored_documents_in_place_to_the_same_result() -> None:
    stored = {("acme", "all"): Stored({"seen": [1]}, 1)}
    copied = fold(Recorder(), [event(2, "a")], stored)
    owned = fold(Recorder(), [event(2, "a")], stored, owned=True)
    assert owned[("acme", "all")].doc == copied[("acme", "all")].doc == {"seen": [1, 2]}
    assert owned[("acme", "all")].doc is stored[("acme", "all")].doc
