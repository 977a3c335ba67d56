"""The write side's verification of the tamper-evident log, handed to the read side neutrally."""

from __future__ import annotations

import uuid

from read_side.chain import ChainBreak, ChainCheck
from write_side.application.ports import EventStore


def check_chain(app: EventStore, customer_id: uuid.UUID | None) -> ChainCheck:
    """Verify the whole log (None) or one customer's chain (blocking: call it off the loop)."""
    report = app.audit.verify(customer_id)
    found = report.finding
    broken = None
    if found is not None:
        broken = ChainBreak(
            kind=found.kind,
            position=found.position,
            customer_id=found.customer_id,
            version=found.version,
            detail=found.detail,
        )
    return ChainCheck(
        ok=report.ok,
        scope="log" if customer_id is None else "customer",
        verified=report.events,
        checkpoints=report.checkpoints,
        first_broken=broken,
    )
