"""One-off upgrade: fill the phone book from the `PhoneIndex` aggregates of earlier versions.

Those aggregates listed every customer that ever had a number. Each listed customer is loaded
once and given the row its current state implies. Rows that commands wrote meanwhile are never
overwritten (commands always write a row, also when a customer loses its phone), so the
backfill may run while other processes serve; it is marked done in the phone book when it
completes and costs one filtered scan of the log per start until then.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from write_side.application.claims import Claims
from write_side.application.phone_book import BACKFILL_MARK
from write_side.application.ports import EventStore
from write_side.domain.claims import PhoneIndex
from write_side.domain.customer import Customer

logger = logging.getLogger(__name__)
_PAGE = 1000


def backfill_phone_book(app: EventStore, claims: Claims) -> int:
    """Give every customer listed by a legacy phone index its row; returns rows added."""
    if app.phones.is_marked(BACKFILL_MARK):
        return 0
    added = 0
    owners = list(_legacy_owners(app))
    for start in range(0, len(owners), _PAGE):
        rows: dict[uuid.UUID, uuid.UUID | None] = {}
        for owner in owners[start : start + _PAGE]:
            customer = _load(app, owner)
            if customer is not None:
                rows[customer.id] = claims.phone_row(customer)
        added += app.phones.insert_missing(rows)
    app.phones.mark(BACKFILL_MARK)
    if owners:
        logger.info(
            "phone book filled from earlier phone indexes",
            extra={"customers": len(owners), "rows": added},
        )
    return added


def _legacy_owners(app: EventStore) -> dict[uuid.UUID, None]:
    events: Any = PhoneIndex  # its event classes are made by the @event decorators
    topics = [get_topic(events.Indexed), get_topic(events.Added)]
    owners: dict[uuid.UUID, None] = {}
    start = 1
    while True:
        page = app.recorder.select_notifications(start, _PAGE, topics=topics)
        if not page:
            return owners
        for notification in page:
            event: Any = app.mapper.to_domain_event(notification)
            owners[uuid.UUID(str(event.owner_id))] = None
        start = page[-1].id + 1


def _load(app: EventStore, customer_id: uuid.UUID) -> Customer | None:
    try:
        customer: Any = app.repository.get(customer_id)
    except AggregateNotFoundError:
        return None
    return customer if isinstance(customer, Customer) else None
