"""The loyalty part of the customer document: folded by every view-store adapter under the
ledger's own version, and found by the expiry sweep (`loyalty_due`)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from read_side.events import EventEnvelope
from tests.contract.event_builder import T0
from tests.contract.view_contract_base import Log, ViewStoreHarness, fold, new_id


def ledger_event(
    log: Log, tenant: str, customer: str, version: int, entry: dict[str, Any] | None = None,
    lot: dict[str, Any] | None = None, lifetime: int = 0,
) -> EventEnvelope:  # fmt: skip
    """A ledger envelope as `projectors.envelopes` makes it (the ledger's own version)."""
    log.position += 1
    kind = "opened" if entry is None else f"points_{entry['kind']}"
    return EventEnvelope(
        position=log.position, event_id=str(uuid.uuid4()), type=f"loyalty.{kind}",
        customer_id=customer, version=version, occurred_at=T0 + timedelta(seconds=log.position),
        tenant_id=tenant, actor="payments",
        data={"customer_id": customer, "entry": entry, "lot": lot, "first_lot": None,
              "lifetime": lifetime},
    )  # fmt: skip


def earned(points: int, expires_at: str | None, key: str = "e1") -> dict[str, Any]:
    entry = {"id": key, "kind": "earned", "points": points, "reason": "payment.succeeded",
             "ref": f"payment:{key}", "at": "2026-01-01T00:00:00.000Z", "shortfall": 0}  # fmt: skip
    return {"entry": entry, "lot": {"id": key, "points": points, "at": entry["at"],
                                    "expiresAt": expires_at}, "lifetime": points}  # fmt: skip


class LoyaltyContract(ViewStoreHarness):
    """What every view-store adapter does with ledger events."""

    async def test_ledger_events_fold_without_moving_the_customer_version(self) -> None:
        store, log, c = await self.make_store(), Log(), new_id()
        created = log.created("t1", c)
        await store.apply([created], created.position)
        ledger = [
            ledger_event(log, "t1", c, 1),
            ledger_event(log, "t1", c, 2, **earned(25, "2027-01-01T00:00:00.000Z")),
        ]
        await store.apply(ledger[:1], ledger[0].position)
        await store.apply(ledger[1:], ledger[1].position)
        await store.apply(ledger, ledger[-1].position)  # a batch applied again changes nothing
        doc = await store.get("t1", c)
        assert doc == fold([created, *ledger])[("t1", c)]
        assert doc is not None and doc["version"] == 1 and doc["loyalty"]["balance"] == 25

    async def test_loyalty_due_lists_customers_with_points_expiring_by_the_cutoff(self) -> None:
        store, log = await self.make_store(), Log()
        soon, later, never, none = new_id(), new_id(), new_id(), new_id()
        events = [log.created("t1", c) for c in (soon, later, never, none)]
        events += [
            ledger_event(log, "t1", soon, 1, **earned(5, "2027-01-01T00:00:00.000Z")),
            ledger_event(log, "t1", later, 1, **earned(5, "2027-06-01T00:00:00.000Z")),
            ledger_event(log, "t1", never, 1, **earned(5, None)),
        ]
        await store.apply(events, events[-1].position)
        assert await store.loyalty_due("2026-12-31T23:59:59.999Z") == []
        assert await store.loyalty_due("2027-01-01T00:00:00.000Z") == [("t1", soon)]
        due = await store.loyalty_due("2027-06-01T00:00:00.000Z")
        assert sorted(due) == sorted([("t1", soon), ("t1", later)])
