"""`firstTime` follows `placedAt`, wherever it is read: the attendee result and the
`VisitRecorded` event (decided by the aggregate), the aggregate's orders and the read model's
orders (folded from the events). An order is the customer's first visit when no visit placed
before it is known; an order placed earlier that arrives late takes `firstTime` over, as it
moves `firstVisitAt` back (issue 10.9)."""

from __future__ import annotations

import random

from eventsourcing.utils import get_topic

from projectors.envelopes import to_envelope
from read_side.views import CustomerDoc, evolve
from shared.events import payloads as ev
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType

DAYS = [f"2026-05-{day:02d}T10:00:00.000Z" for day in (3, 1, 9, 1, 5, 2, 9, 7)]


def test_first_time_is_the_earliest_placed_order_in_every_arrival_order() -> None:
    rng = random.Random(9)
    for _ in range(40):
        arrivals = [(f"o{n}", day) for n, day in enumerate(DAYS)]
        rng.shuffle(arrivals)
        customer = Customer.register(
            tenant_id="acme", actor="a", customer_type=CustomerType.NEW, profile={"firstName": "A"}
        )
        answers: dict[str, bool] = {}
        earliest: str | None = None
        for order_id, placed_at in arrivals:
            answers[order_id] = customer.record_visit(
                actor="a", order_id=order_id, placed_at=placed_at
            )
            # first when placed strictly before every visit known so far (a tie is not before)
            assert answers[order_id] == (earliest is None or placed_at < earliest)
            earliest = min(filter(None, (earliest, placed_at)))
        events = customer.collect_events()
        visits = [e.payload() for e in events if isinstance(e, Customer.VisitRecorded)]
        decided = {v.order_id: v.first_time for v in visits if isinstance(v, ev.VisitRecorded)}
        assert decided == answers  # the event says what the response said
        first = min(arrivals, key=lambda a: (a[1], [x[0] for x in arrivals].index(a[0])))[0]
        current = {order_id: first == order_id for order_id, _ in arrivals}
        assert customer.first_visit_at == first_placed(arrivals)
        assert {k: o.first_time for k, o in customer.orders.items()} == current
        doc: CustomerDoc | None = None
        for event in events:
            doc = evolve(doc, to_envelope(event, get_topic(type(event)), 1))
        assert doc is not None and doc["firstVisitAt"] == customer.first_visit_at
        assert {k: o["firstTime"] for k, o in doc["orders"].items()} == current


def first_placed(arrivals: list[tuple[str, str]]) -> str:
    return min(placed_at for _, placed_at in arrivals)
